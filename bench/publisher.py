"""Publisher process: sends numbered events the way each setup's producers would.

``hub``: the public API (``notifications.publish.to_topic``) from sync code.
``tutorial``: ``async_to_sync(channel_layer.group_send)`` as the Channels tutorial does.
``raw``: one Redis PUBLISH. Prints a JSON line with the per-call cost.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["hub", "tutorial", "raw"])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0, help="events per second; 0: as fast as possible")
    args = parser.parse_args()
    import django

    django.setup()
    send = _sender(args.kind)
    costs = []
    start = time.perf_counter()
    for seq in range(args.events):
        if args.rate:
            delay = start + seq / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing at the requested rate
        data = {"seq": seq, "sent": time.time()}
        began = time.perf_counter()
        send(data)
        costs.append((time.perf_counter() - began) * 1000)
    print(json.dumps({"median_ms": statistics.median(costs), "p99_ms": sorted(costs)[int(len(costs) * 0.99)]}))


def _sender(kind: str):  # noqa: ANN202
    if kind == "hub":
        from notifications import publish

        return lambda data: publish.to_topic("chat.bench", "tick", data)
    if kind == "tutorial":
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        return lambda data: async_to_sync(layer.group_send)("bench", {"type": "bench.message", "message": data})
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return lambda data: client.publish("bench-raw", json.dumps({"message": data}))


if __name__ == "__main__":
    main()
