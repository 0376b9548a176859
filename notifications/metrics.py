"""The hub's own numbers: connections, subscriptions, deliveries, latency, drops, receipts.

Each server process counts in memory (no I/O on the delivery path) and a background
task writes its figures to Redis every second, under a key that expires when the
process dies. :func:`snapshot` adds up every live process; publishes are counted by
the publish script itself. Receipts count the connections an event was delivered to.
"""

from __future__ import annotations

import asyncio
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


class _Figures:
    """One process's counters since it started (gauges and totals) and recent latencies."""

    def __init__(self) -> None:
        self.connections = 0
        self.topics: Counter[str] = Counter()
        self.delivered = 0
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
    """Count one delivery; the first in this process also samples publish-to-delivery latency."""
    _figures.delivered += 1
    receipt = message.get("receipt")
    if receipt:
        _figures.receipts[receipt] += 1
    if first and message.get("ts"):
        samples = _figures.latencies
        samples.append(time.time() * 1000 - message["ts"])
        if len(samples) > _LATENCY_SAMPLES:
            del samples[: len(samples) // 2]


def start() -> None:
    """Start this process's flusher on the running loop, once."""
    if _figures.task is None or _figures.task.done():
        _figures.task = asyncio.get_running_loop().create_task(_flush_forever())


def snapshot() -> dict[str, Any]:
    """Return the hub's figures summed over live server processes (sync; Redis reads)."""
    client = redis_client.client()
    prefix = redis_client.prefix()
    totals: dict[str, Any] = {"processes": 0, "connections": 0, "delivered": 0, "dropped": 0, "topics": Counter()}
    latencies: list[float] = []
    for key in client.scan_iter(f"{prefix}:metrics:process:*"):
        raw = client.get(key)
        if raw is None:
            continue
        figures = json.loads(raw)
        totals["processes"] += 1
        for name in ("connections", "delivered", "dropped"):
            totals[name] += figures[name]
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
