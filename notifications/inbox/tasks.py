"""Periodic inbox upkeep, run by Celery beat."""

from __future__ import annotations

from celery import shared_task

from notifications.inbox import services


@shared_task
def purge_expired_notifications() -> int:
    """Delete notifications past HUB_INBOX_RETENTION_DAYS; return how many."""
    return services.purge_expired()
