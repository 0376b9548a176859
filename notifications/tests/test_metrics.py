"""The hub's own figures: what the staff dashboard and the announcement admin read."""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from conftest import wait_for
from notifications import groups, metrics, publish
from notifications.client import HubClient


async def test_snapshot_counts_connections_subscriptions_deliveries(live_hub: Any) -> None:
    """Two connections, one subscription and a delivered event show in the snapshot."""
    before = await sync_to_async(metrics.snapshot)()

    def flushed() -> dict | None:
        figures = metrics.snapshot()
        return figures if "chat.metrics" in figures["topics"] and figures["delivered"] > before["delivered"] else None

    async with HubClient(live_hub.ws_url, reconnect=False) as one, HubClient(live_hub.ws_url, reconnect=False):
        await one.subscribe("chat.metrics")
        await publish.ato_topic("chat.metrics", "ping")
        await one.next_event()
        figures = await sync_to_async(wait_for)(flushed)
    assert figures["connections"] >= 2 and figures["processes"] >= 1 and figures["subscriptions"] >= 1
    assert figures["published"] > before["published"]
    assert figures["latency_ms"]["samples"] >= 1 and figures["latency_ms"]["p50"] is not None


async def test_receipts_count_connections_reached(live_hub: Any) -> None:
    """An event carrying a receipt key is counted once per connection it reached."""
    clients = [HubClient(live_hub.ws_url, reconnect=False) for _ in range(3)]
    for client in clients:
        await client.connect()
    message = groups.event_message(stream="broadcast.everyone", event="note", data=None, ts=int(time.time() * 1000))
    message["receipt"] = "test-receipt-1"
    await get_channel_layer().group_send(groups.audience_group(groups.EVERYONE), message)
    for client in clients:
        assert (await client.next_event())["event"] == "note"
        await client.close()
    await sync_to_async(wait_for)(lambda: metrics.receipts("test-receipt-1") >= 3)
    assert await sync_to_async(metrics.receipts)("test-receipt-1") == 3
