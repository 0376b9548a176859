"""Celery tasks of the dashboards: the coalesced flush and the beat jobs (schedule in settings/base.py)."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings

from notifications.dashboards import hub, registry, sales, state
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


@shared_task(ignore_result=True)
def demo_orders(rate: float | None = None) -> int:
    """Create about ``rate`` (HUB_DASHBOARD_DEMO_RATE) demo orders, as a beat job run each second; return how many."""
    rate = settings.HUB_DASHBOARD_DEMO_RATE if rate is None else rate
    whole, fraction = divmod(rate, 1)
    count = int(whole) + (random.random() < fraction)
    for _ in range(count):
        sales.create_demo_order()
    return count
