"""The hub's own numbers: connections, subscriptions, deliveries, replays, latency, drops, receipts.

Each server process counts in memory (no I/O on the delivery path) and a background
task writes its figures to Redis every second, under a key that expires when the
process dies. :func:`snapshot` adds up every live process; publishes are counted by
the publish script itself. Receipts count the connections an event was delivered to.
Latency is sampled from live deliveries only: events replayed from history (a resume, a
retained topic's latest state for a new subscriber) are counted as replayed instead.
``/hub/metrics`` (``notifications.prometheus``) exports the same figures to Prometheus.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import os
import time
import uuid
from collections import Counter
from typing import Any

import redis
import redis.asyncio as aioredis

from notifications import redis_client

logger = logging.getLogger(__name__)

__all__ = ["connected", "delivered", "receipts", "snapshot", "start", "subscribed", "unsubscribed"]

FLUSH_SECONDS = 1.0
_PROCESS_TTL = 10
_LATENCY_SAMPLES = 2000
# Upper bounds (seconds) of the hub_delivery_latency_seconds histogram's buckets.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Figures:
    """One process's counters since it started (gauges and totals) and recent latencies."""

    def __init__(self) -> None:
        self.connections = 0
        self.topics: Counter[str] = Counter()
        self.delivered = 0
        self.replayed = 0
        self.slow_closes = 0
        # Per-bucket counts (not cumulative; the last is above every bound), their sum in seconds.
        self.latency_buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latencies: list[float] = []
        self.receipts: Counter[str] = Counter()
        self.task: asyncio.Task[None] | None = None
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


_figures = _Figures()


def connected(change: int) -> None:
    """Count a connection opening (+1) or closing (-1)."""
    _figures.connections += change


def subscribed(topic: str) -> None:
    """Count a subscription to ``topic``."""
    _figures.topics[topic] += 1


def unsubscribed(topic: str) -> None:
    """Count a subscription to ``topic`` ending."""
    _figures.topics[topic] -= 1
    if _figures.topics[topic] <= 0:
        del _figures.topics[topic]


def delivered(message: dict[str, Any], first: bool) -> None:
    """Count one delivery; the first live one in this process also measures publish-to-delivery latency."""
    _figures.delivered += 1
    receipt = message.get("receipt")
    if receipt:
        _figures.receipts[receipt] += 1
    if message.get("_replayed"):
        _figures.replayed += 1
    elif first and message.get("ts"):
        latency_ms = time.time() * 1000 - message["ts"]
        samples = _figures.latencies
        samples.append(latency_ms)
        if len(samples) > _LATENCY_SAMPLES:
            del samples[: len(samples) // 2]
        seconds = max(latency_ms, 0.0) / 1000
        _figures.latency_buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        _figures.latency_sum += seconds


def slow_client_closed() -> None:
    """Count a connection closed because it fell too far behind (4008)."""
    _figures.slow_closes += 1


def start() -> None:
    """Start this process's flusher on the running loop, once."""
    if _figures.task is None or _figures.task.done():
        _figures.task = asyncio.get_running_loop().create_task(_flush_forever())


def snapshot() -> dict[str, Any]:
    """Return the hub's figures summed over live server processes (sync; Redis reads)."""
    client = redis_client.client()
    prefix = redis_client.prefix()
    totals: dict[str, Any] = {"processes": 0, "topics": Counter(), "latency_buckets": [0] * (len(LATENCY_BUCKETS) + 1)}
    totals.update(dict.fromkeys(_SUMMED, 0))
    totals["latency_sum"] = 0.0
    latencies: list[float] = []
    for key in client.scan_iter(f"{prefix}:metrics:process:*"):
        raw = client.get(key)
        if raw is None:
            continue
        figures = json.loads(raw)
        totals["processes"] += 1
        for name in _SUMMED:
            totals[name] += figures.get(name, 0)
        totals["latency_sum"] += figures.get("latency_sum", 0.0)
        for index, count in enumerate(figures.get("latency_buckets", ())):
            totals["latency_buckets"][index] += count
        totals["topics"].update(figures["topics"])
        latencies.extend(figures["latencies"])
    totals["published"] = int(client.get(f"{prefix}:metrics:published") or 0)
    totals["subscriptions"] = sum(totals["topics"].values())
    totals["topics"] = dict(totals["topics"].most_common())
    latencies.sort()
    totals["latency_ms"] = {
        "p50": _percentile(latencies, 0.50),
        "p99": _percentile(latencies, 0.99),
        "samples": len(latencies),
    }
    totals["at"] = time.time()
    return totals


_SUMMED = ("connections", "delivered", "replayed", "dropped", "slow_closes")


def receipts(key: str) -> int:
    """Return how many connections an event carrying ``"receipt": key`` was delivered to."""
    return int(redis_client.client().hget(f"{redis_client.prefix()}:metrics:receipts", key) or 0)


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))], 2)


async def _flush_forever() -> None:
    client = redis_client.async_client()
    key = f"{redis_client.prefix()}:metrics:process:{_figures.name}"
    try:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)  # the flush period
            try:
                await _flush(client, key)
            except redis.RedisError as error:
                logger.warning("Could not write the hub's metrics to Redis: %s", error)
    finally:
        await client.aclose()


async def _flush(client: aioredis.Redis, key: str) -> None:
    from channels.layers import get_channel_layer

    figures = {
        "connections": _figures.connections,
        "delivered": _figures.delivered,
        "replayed": _figures.replayed,
        "slow_closes": _figures.slow_closes,
        "latency_buckets": _figures.latency_buckets,
        "latency_sum": round(_figures.latency_sum, 6),
        "dropped": getattr(get_channel_layer(), "dropped", 0),
        "topics": dict(_figures.topics),
        "latencies": [round(value, 2) for value in _figures.latencies[-500:]],
    }
    _figures.latencies.clear()
    receipts, _figures.receipts = _figures.receipts, Counter()
    try:
        async with client.pipeline(transaction=False) as pipe:
            pipe.set(key, json.dumps(figures), ex=_PROCESS_TTL)
            for receipt, count in receipts.items():
                pipe.hincrby(f"{redis_client.prefix()}:metrics:receipts", receipt, count)
            await pipe.execute()
    except redis.RedisError:
        _figures.receipts.update(receipts)  # counted again at the next flush
        raise
