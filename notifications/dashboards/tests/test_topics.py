"""Subscribing to a dashboard: the snapshot first, then updates; each dashboard's own permission."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from notifications import dashboards
from notifications.client import HubError
from notifications.dashboards import hub as hub_dashboard
from notifications.dashboards import state
from notifications.dashboards.tests.helpers import SALES, grant, next_state, states_until

HUB = "dashboard.hub"


async def test_new_subscriber_gets_the_snapshot_first(
    live_hub: Any, celery_worker: Any, viewer: Any, client_for: Any
) -> None:
    """A subscriber arriving after an update sees the current state at once, then the next update."""
    field = "snapshot_" + secrets.token_hex(4)
    async with client_for(viewer) as first:
        await first.subscribe(SALES)
        await sync_to_async(dashboards.update)("sales", **{field: "before"}, orders_today=-1)
        await states_until(first, lambda data: data["values"].get(field) == "before", quiet=0.0)

    async with client_for(viewer) as late:
        await late.subscribe(SALES)
        snapshot = await next_state(late)
        await sync_to_async(dashboards.update)("sales", **{field: "after"})
        update = await next_state(late)
    assert snapshot["dashboard"] == "sales"
    assert snapshot["values"][field] == "before" and snapshot["values"]["orders_today"] == -1
    assert update["values"][field] == "after"


@pytest.mark.parametrize("topic", [SALES, HUB, "dashboard.no-such-dashboard"])
async def test_user_without_the_permission_is_refused(
    live_hub: Any, make_user: Any, client_for: Any, topic: str
) -> None:
    """A signed-in user without a dashboard's permission, or a visitor, gets a forbidden error frame."""
    user = await sync_to_async(make_user)("nobody")
    for who in (user, None):
        async with client_for(who) as hub:
            with pytest.raises(HubError) as refused:
                await hub.subscribe(topic)
            assert refused.value.code == "forbidden"
            assert (await hub.ping())["type"] == "pong"  # the socket goes on


async def test_hub_dashboard_is_staff_only(
    live_hub: Any, celery_worker: Any, viewer: Any, staff_user: Any, client_for: Any
) -> None:
    """Staff see the hub's own figures; a user allowed the sales dashboard is refused the hub's."""
    async with client_for(viewer) as sales_viewer:
        with pytest.raises(HubError) as refused:
            await sales_viewer.subscribe(HUB)
    assert refused.value.code == "forbidden"

    async with client_for(staff_user) as staff:
        await staff.subscribe(HUB)
        figures: dict[str, Any] = {}
        async with asyncio.timeout(15):
            # Hub processes write their figures once a second: sample until this connection shows.
            while not figures.get("connections") or HUB not in {row["topic"] for row in figures["topics"]}:
                await sync_to_async(hub_dashboard.sample)()
                figures = (await next_state(staff, HUB))["values"]
    assert figures["processes"] >= 1 and figures["subscriptions"] >= 1
    assert {"published_per_s", "delivered_per_s", "dropped", "latency_p50", "latency_p99"} <= set(figures)


async def test_staff_without_the_permission_may_not_view_sales(live_hub: Any, staff_user: Any, client_for: Any) -> None:
    """Staff status alone does not open the sales dashboard: it has its own permission."""
    async with client_for(staff_user) as staff:
        with pytest.raises(HubError) as refused:
            await staff.subscribe(SALES)
        assert refused.value.code == "forbidden"
        await sync_to_async(grant)(staff_user)
    await sync_to_async(state.flush)(name="sales")  # a snapshot to wait for
    async with client_for(staff_user) as staff:
        assert (await staff.subscribe(SALES))["type"] == "subscribed"
        assert (await next_state(staff))["dashboard"] == "sales"
