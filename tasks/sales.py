"""The demo's beat job that feeds the sales dashboard (``HUB_DASHBOARD_DEMO_RATE`` orders a second)."""

from __future__ import annotations

import random

from celery import shared_task
from django.conf import settings

from hub import sales


@shared_task(ignore_result=True)
def demo_orders(rate: float | None = None) -> int:
    """Create about ``rate`` (HUB_DASHBOARD_DEMO_RATE) demo orders, as a beat job run each second; return how many."""
    rate = settings.HUB_DASHBOARD_DEMO_RATE if rate is None else rate
    whole, fraction = divmod(rate, 1)
    count = int(whole) + (random.random() < fraction)
    for _ in range(count):
        sales.create_demo_order()
    return count
