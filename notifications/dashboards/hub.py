"""The staff-only dashboard of the hub itself, sampled by a beat task every HUB_DASHBOARD_HUB_EVERY seconds.

Rates are per second between this sample and the previous one (kept in Redis, so any
worker may take the next sample). A rate is None on the first sample and when a counter
went down (a hub process stopped and its totals left the sum).
"""

from __future__ import annotations

import json
from typing import Any, cast

from notifications import metrics, presence
from notifications.dashboards import state, store
from notifications.dashboards.registry import declare

__all__ = ["sample"]

NAME = "hub"
TOP_TOPICS = 20
_COUNTERS = ("published", "delivered", "dropped")

declare(
    NAME,
    title="Hub",
    staff=True,
    description="The hub itself: connections, online users, subscriptions, throughput, latency and drops.",
    kpis={
        "connections": "Open connections",
        "online_users": "Online users",
        "subscriptions": "Subscriptions",
        "published_per_s": "Published / s",
        "delivered_per_s": "Delivered / s",
        "latency_p50": "Latency p50 (ms)",
        "latency_p99": "Latency p99 (ms)",
        "dropped": "Dropped (total)",
        "processes": "Hub processes",
    },
    chart="delivered_per_s",
    table="topics",
    columns={"topic": "Topic", "subscribers": "Subscribers"},
)


def sample() -> dict[str, Any]:
    """Read the hub's figures, update the hub dashboard with them and their rates; return the values."""
    figures = metrics.snapshot()
    current = {name: figures[name] for name in _COUNTERS} | {"at": figures["at"]}
    # SET ... GET answers the previous value or None, never the True of a plain SET.
    raw = cast("bytes | None", store.client().set(store.key(NAME, "previous"), json.dumps(current), get=True, ex=3600))
    previous = json.loads(raw) if raw else None
    values: dict[str, Any] = {
        "processes": figures["processes"],
        "connections": figures["connections"],
        # Distinct signed-in users with a connection anywhere: Redis' own count of user channels, no query.
        "online_users": presence.online_users(),
        "subscriptions": figures["subscriptions"],
        "latency_p50": figures["latency_ms"]["p50"],
        "latency_p99": figures["latency_ms"]["p99"],
        "latency_samples": figures["latency_ms"]["samples"],
        "topics": [
            {"topic": topic, "subscribers": count} for topic, count in list(figures["topics"].items())[:TOP_TOPICS]
        ],
    }
    for name in _COUNTERS:
        values[name] = figures[name]
        values[f"{name}_per_s"] = _rate(previous, current, name)
    state.update(NAME, **values)
    return values


def _rate(previous: dict[str, Any] | None, current: dict[str, Any], name: str) -> float | None:
    if previous is None or current["at"] <= previous["at"] or current[name] < previous[name]:
        return None
    return round((current[name] - previous[name]) / (current["at"] - previous["at"]), 1)
