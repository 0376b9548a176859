"""Coalescing: bursts of updates and of saves reach a subscriber as a few pushes, the last one exact."""

from __future__ import annotations

import math
import secrets
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction

from hub import sales
from hub.models import Order
from notifications import dashboards
from notifications.dashboards import state
from notifications.dashboards.tests.helpers import SALES, next_state, states_until


def coalescing_bound(seconds: float) -> int:
    """Return the most pushes a burst lasting ``seconds`` may cause (docs/dashboards.md)."""
    return math.ceil(seconds / settings.HUB_DASHBOARD_INTERVAL) + 1


async def test_burst_of_updates_ends_exact_in_few_pushes(
    live_hub: Any, celery_worker: Any, viewer: Any, client_for: Any
) -> None:
    """10,000 updates in a tight loop reach a subscriber as at most ceil(T/interval)+1 pushes, the last one exact."""
    field = "burst_" + secrets.token_hex(4)

    def burst() -> float:
        start = time.monotonic()
        for n in range(1, 10_001):
            dashboards.update("sales", **{field: n})
        return time.monotonic() - start

    async with client_for(viewer) as hub:
        await hub.subscribe(SALES)
        seconds = await sync_to_async(burst)()
        pushes = await states_until(
            hub, lambda data: data["values"].get(field) == 10_000, quiet=3 * settings.HUB_DASHBOARD_INTERVAL
        )
    seen = [data["values"][field] for data in pushes if field in data["values"]]
    print(f"10,000 updates in {seconds:.2f} s -> {len(seen)} pushes (bound {coalescing_bound(seconds)})")
    assert seen[-1] == 10_000
    assert seen == sorted(seen)
    assert len(seen) <= coalescing_bound(seconds)


async def test_burst_of_saves_ends_with_the_exact_count(
    live_hub: Any, celery_worker: Any, viewer: Any, client_for: Any
) -> None:
    """1,000 orders saved one by one show as the exact count and newest order, in few pushes."""

    def burst() -> tuple[float, int]:
        start = time.monotonic()
        for _ in range(1000):
            last = sales.create_demo_order()
        return time.monotonic() - start, last.pk

    await sync_to_async(state.flush)(name="sales")  # the retained snapshot the subscriber starts from
    async with client_for(viewer) as hub:
        await hub.subscribe(SALES)
        await next_state(hub)
        seconds, last_pk = await sync_to_async(burst)()
        pushes = await states_until(
            hub, lambda data: data["values"]["orders_today"] == 1000, quiet=3 * settings.HUB_DASHBOARD_INTERVAL
        )
    counts = [data["values"]["orders_today"] for data in pushes]
    print(f"1,000 saves in {seconds:.2f} s -> {len(pushes)} pushes (bound {coalescing_bound(seconds)})")
    assert counts[-1] == await sync_to_async(Order.objects.today().count)() == 1000
    assert pushes[-1]["values"]["latest_orders"][0]["id"] == last_pk
    assert len(pushes) <= coalescing_bound(seconds)


@pytest.mark.django_db(transaction=True)
def test_update_in_a_rolled_back_transaction_never_reaches_the_dashboard() -> None:
    """An update inside a transaction is stored on commit; one whose transaction rolls back is not."""
    kept, dropped = "kept_" + secrets.token_hex(4), "dropped_" + secrets.token_hex(4)

    with transaction.atomic():
        dashboards.update("sales", **{kept: 1})
        assert kept not in state.read(name="sales")["values"]
    with pytest.raises(RuntimeError), transaction.atomic():
        dashboards.update("sales", **{dropped: 1})
        raise RuntimeError("roll back")

    values = state.read(name="sales")["values"]
    assert values[kept] == 1 and dropped not in values


def test_bad_updates_raise_at_the_call() -> None:
    """An unknown dashboard, a bad field name or a value that is not JSON raise before anything is stored."""
    with pytest.raises(dashboards.UnknownDashboard):
        dashboards.update("no-such-dashboard", orders=1)
    with pytest.raises(dashboards.DashboardError, match="field name"):
        dashboards.update("sales", **{"bad field": 1})
    with pytest.raises(dashboards.DashboardError, match="JSON"):
        dashboards.update("sales", ratio=float("nan"))
    with pytest.raises(dashboards.DashboardError, match="JSON"):
        dashboards.update("sales", blob=object())
