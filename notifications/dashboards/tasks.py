"""Celery tasks of the dashboards: the coalesced flush and the beat jobs (scheduled in apps.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from notifications.dashboards import hub, registry, state
from notifications.exceptions import HubUnavailable

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, autoretry_for=(HubUnavailable,), retry_backoff=1, max_retries=5)
def flush_dashboard(name: str, token: str | None = None) -> None:
    """Push dashboard ``name`` (scheduled by the first update of a window; ``token`` marks that window)."""
    state.flush(name=name, token=token)


@shared_task(ignore_result=True)
def refresh_dashboards() -> int:
    """Recompute every metric of every dashboard and push each (beat); return how many dashboards."""
    dashboards = registry.declared()
    for dashboard in dashboards:
        state.mark_dirty(name=dashboard.name, metrics=dashboard.metrics)
    return len(dashboards)


@shared_task(ignore_result=True)
def sample_hub() -> None:
    """Update the staff hub dashboard with the hub's current figures and rates (beat)."""
    hub.sample()
