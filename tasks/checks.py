"""System checks of the jobs settings: misconfiguration is reported at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error

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
    errors = []
    for name in _POSITIVE:
        value = getattr(settings, name, None)
        if not isinstance(value, (int, float)) or value <= 0:
            errors.append(Error("%s must be a positive number, not %r." % (name, value), id="tasks.E001"))
    if errors:
        return errors
    if settings.HUB_JOB_CANCEL_POLL > 1:
        errors.append(
            Error(
                "HUB_JOB_CANCEL_POLL is %r; a running job must see a cancel request within a second."
                % settings.HUB_JOB_CANCEL_POLL,
                id="tasks.E002",
            )
        )
    if settings.HUB_JOB_LOST_AFTER < 2 * settings.HUB_JOB_HEARTBEAT:
        errors.append(
            Error(
                "HUB_JOB_LOST_AFTER (%r) must be at least twice HUB_JOB_HEARTBEAT (%r), or live jobs are failed."
                % (settings.HUB_JOB_LOST_AFTER, settings.HUB_JOB_HEARTBEAT),
                id="tasks.E003",
            )
        )
    timeout = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}).get("visibility_timeout")
    if timeout is None or timeout <= settings.HUB_JOB_MAX_RUNTIME:
        errors.append(
            Error(
                "CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'] is %r; it must exceed HUB_JOB_MAX_RUNTIME (%r)"
                " or Redis hands running jobs to a second worker." % (timeout, settings.HUB_JOB_MAX_RUNTIME),
                id="tasks.E004",
            )
        )
    return errors
