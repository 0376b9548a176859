"""System checks of the jobs settings: misconfiguration is reported at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error

from notifications.conf import hub_settings
from notifications.system_checks import positive_numbers, requires_apps

_POSITIVE = (
    "HUB_JOB_PROGRESS_INTERVAL",
    "HUB_JOB_CANCEL_POLL",
    "HUB_JOB_HEARTBEAT",
    "HUB_JOB_LOST_AFTER",
    "HUB_JOB_SWEEP_INTERVAL",
    "HUB_JOB_MAX_RUNTIME",
    "HUB_JOB_RETENTION_DAYS",
)


def check_job_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Check that the HUB_JOB_* numbers are positive and agree with each other and with Celery's."""
    errors = requires_apps("notifications.jobs", ["channels", "notifications"], "jobs.E005")
    errors += positive_numbers(_POSITIVE, "jobs.E001")
    if errors:
        return errors
    if hub_settings.HUB_JOB_CANCEL_POLL > 1:
        errors.append(
            Error(
                "HUB_JOB_CANCEL_POLL is %r; a running job must see a cancel request within a second."
                % hub_settings.HUB_JOB_CANCEL_POLL,
                id="jobs.E002",
            )
        )
    if hub_settings.HUB_JOB_LOST_AFTER < 2 * hub_settings.HUB_JOB_HEARTBEAT:
        errors.append(
            Error(
                "HUB_JOB_LOST_AFTER (%r) must be at least twice HUB_JOB_HEARTBEAT (%r), or live jobs are failed."
                % (hub_settings.HUB_JOB_LOST_AFTER, hub_settings.HUB_JOB_HEARTBEAT),
                id="jobs.E003",
            )
        )
    # Celery's Redis transport redelivers an unacknowledged job after an hour unless told otherwise.
    timeout = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("visibility_timeout", 3600)
    if timeout is None or timeout <= hub_settings.HUB_JOB_MAX_RUNTIME:
        errors.append(
            Error(
                "CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'] is %r; it must exceed HUB_JOB_MAX_RUNTIME (%r)"
                " or Redis hands running jobs to a second worker." % (timeout, hub_settings.HUB_JOB_MAX_RUNTIME),
                id="jobs.E004",
            )
        )
    return errors
