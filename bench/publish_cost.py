"""Publish cost from sync code: the hub's API vs a bare ``async_to_sync(group_send)``.

    python bench/publish_cost.py [--calls 2000]

Prints the median and p99 per call, and Redis' client count before and after each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(send, calls: int) -> dict:  # noqa: ANN001
    """Time ``calls`` calls of ``send(n)``; return median and p99 in ms."""
    costs = []
    for n in range(calls):
        began = time.perf_counter()
        send(n)
        costs.append((time.perf_counter() - began) * 1000)
    costs.sort()
    return {"median_ms": round(statistics.median(costs), 3), "p99_ms": round(costs[int(calls * 0.99)], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")
    os.environ.setdefault("HUB_REDIS_PREFIX", "bench")
    from notifications.embedded_redis import EmbeddedRedis

    redis_server = None
    if not os.environ.get("REDIS_URL"):
        redis_server = EmbeddedRedis(ROOT / ".hub" / "bench-redis")
        os.environ["REDIS_URL"] = redis_server.start()
    try:
        import django

        django.setup()
        import redis
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        from notifications import publish

        server = redis.Redis.from_url(os.environ["REDIS_URL"])
        layer = get_channel_layer()
        rows = []
        for name, send in [
            ("hub publish.to_topic (history + publish)", lambda n: publish.to_topic("chat.bench", "tick", {"seq": n})),
            (
                "bare async_to_sync(group_send)",
                lambda n: async_to_sync(layer.group_send)("bench", {"type": "x", "n": n}),
            ),
        ]:
            send(-1)  # warm up: the first call opens the process's connection and loads the script
            before = len(server.client_list())
            figures = measure(send, args.calls)
            rows.append((name, figures, before, len(server.client_list())))
        if args.json:
            (ROOT / args.json).write_text(json.dumps([{"call": n, **f} for n, f, _b, _a in rows], indent=1))
        for name, figures, before, after in rows:
            print(f"{name:45} median {figures['median_ms']:.3f} ms  p99 {figures['p99_ms']:.3f} ms  "
                  f"Redis clients {before} -> {after}")  # fmt: skip
    finally:
        if redis_server is not None:
            redis_server.stop()


if __name__ == "__main__":
    main()
