"""Publisher process: sends numbered events the way each setup's producers would.

``hub``: the public API (``notifications.publish.to_topic``) from sync code.
``tutorial``: ``async_to_sync(channel_layer.group_send)`` as the Channels tutorial does.
``raw``: one Redis PUBLISH. ``pysocketio``: python-socketio's write-only ``RedisManager``. Prints a JSON line with the per-call cost.
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
    parser.add_argument("kind", choices=["hub", "tutorial", "raw", "pysocketio"])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0, help="events per second; 0: as fast as possible")
    parser.add_argument("--topic", default="chat.bench", help="hub: the topic")
    parser.add_argument("--topics", type=int, default=1, help="hub: spread events over TOPIC0..TOPIC<N-1>")
    parser.add_argument("--seconds", type=float, default=0, help="with --rate: publish for this long instead")
    args = parser.parse_args()
    import django

    django.setup()
    send = _sender(args.kind, args.topic, args.topics)
    costs = []
    start = time.perf_counter()
    events = int(args.seconds * args.rate) if args.seconds and args.rate else args.events
    for seq in range(events):
        if args.rate:
            delay = start + seq / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing at the requested rate
        data = {"seq": seq, "sent": time.time()}
        began = time.perf_counter()
        send(data)
        if args.seconds:
            print(json.dumps({"seq": seq, "at": time.time()}), flush=True)
        costs.append((time.perf_counter() - began) * 1000)
    print(json.dumps({"median_ms": statistics.median(costs), "p99_ms": sorted(costs)[int(len(costs) * 0.99)]}))


def _sender(kind: str, topic: str = "chat.bench", topics: int = 1):  # noqa: ANN202
    if kind == "hub":
        from notifications import publish

        if topics > 1:
            return lambda data: publish.to_topic(f"{topic}{data['seq'] % topics}", "tick", data)
        return lambda data: publish.to_topic(topic, "tick", data)
    if kind == "pysocketio":
        import socketio

        manager = socketio.RedisManager(os.environ["REDIS_URL"], channel="bench-socketio", write_only=True)
        return lambda data: manager.emit("tick", data, room="bench", namespace="/")
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
