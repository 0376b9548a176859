"""Periodic tasks of jobs, run by Celery beat (scheduled in ``JobsConfig.ready`` through ``notifications.periodic``)."""

from __future__ import annotations

from celery import shared_task

from notifications.conf import hub_settings
from notifications.jobs import services


@shared_task(ignore_result=True)
def sweep_lost_jobs() -> int:
    """Fail running jobs without a heartbeat for HUB_JOB_LOST_AFTER seconds; return how many."""
    return services.fail_lost_jobs(lost_after=hub_settings.HUB_JOB_LOST_AFTER)


@shared_task(ignore_result=True)
def delete_old_jobs() -> int:
    """Delete jobs that ended more than HUB_JOB_RETENTION_DAYS days ago, with their files; return how many."""
    return services.delete_expired_jobs(days=hub_settings.HUB_JOB_RETENTION_DAYS)
