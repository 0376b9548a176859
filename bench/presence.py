"""Presence benchmark: N members joining one presence topic, the Redis work per join, the snapshot, the leaves.

    python bench/presence.py [--members 5000] [--rate 0]

Members join through presence's own session hook (``notifications.presence.subscribed``, what
a subscribe to a presence topic calls) in this process, as fake sessions of distinct users
that do not watch presence; an observer on a hub server process (Uvicorn, another process)
watches the topic over a real websocket and says when it has seen every join. Why not N
watching sockets: every join goes to every watcher, so N watchers of N joins is N² frames,
which measures websocket fan-out (bench/fanout.py), not presence. ``--rate 0`` sends every join
at once (a reconnect storm); ``--rate R`` paces them at R joins a second.

Printed: time until Redis holds every member and until the observer has seen every join;
Redis commands and script calls per join (INFO commandstats before and after, which
counts the commands scripts run); the snapshot a new watcher gets (frames, bytes, time);
the full read of members(); the time until the observer has seen every leave. Two server
processes: the observer's, and one where the snapshot is the first of the topic (a cold copy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOPIC = "chat.bench-presence"


def _fake_session(n: int) -> Any:
    """A stand-in for a HubSession of user ``n``: what presence's session hooks read."""
    from notifications.presence import Attendance

    user = SimpleNamespace(pk=n, get_username=lambda: "user%05d" % n)
    return SimpleNamespace(user=user, user_id=n, attendance=Attendance(), closed=False, transport=None)


def _commandstats(client: Any) -> dict[str, int]:
    return {name: int(stats["calls"]) for name, stats in client.info("commandstats").items()}


def _start_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "notifications.servers", "uvicorn", "hub.asgi:application", "--port", str(port)]
    with open(f"/tmp/bench-presence-server-{port}.log", "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    from bench.servers import wait_port

    try:
        wait_port(port, server, timeout=30)
    except RuntimeError as error:
        raise SystemExit(f"the hub server did not start ({error}); see /tmp/bench-presence-server-{port}.log") from None
    return server


async def _snapshot(url: str) -> dict[str, Any]:
    """Subscribe a new watcher; return its snapshot's frames, bytes and time."""
    import websockets

    async with websockets.connect(url, max_size=None) as socket:
        await socket.recv()  # hello
        began = time.perf_counter()
        await socket.send(json.dumps({"type": "subscribe", "topic": TOPIC, "presence": True}))
        frames = size = members = 0
        while True:
            text = await socket.recv()
            frame = json.loads(text)
            if frame["type"] != "presence":
                continue
            frames, size, members = frames + 1, size + len(text.encode()), members + len(frame["members"])
            if frame["page"] == frame["pages"]:
                break
        return {"frames": frames, "bytes": size, "members": members, "ms": (time.perf_counter() - began) * 1000}


async def run(url: str, cold_url: str, members: int, rate: float) -> dict[str, Any]:
    from notifications import presence, presence_store, redis_client
    from notifications.client import HubClient
    from notifications.presence_tracker import tracker

    client = redis_client.client()
    seen = {"joined": asyncio.Event(), "left": asyncio.Event()}

    def watch(state: dict[str, Any], frame: dict[str, Any]) -> None:
        if len(state["members"]) >= members:
            seen["joined"].set()
        if frame.get("type") == "leave" and not state["members"]:
            seen["left"].set()

    async with HubClient(url) as observer:
        observer.on_presence(TOPIC, watch)
        await observer.subscribe(TOPIC, presence=True)
        sessions = [_fake_session(n) for n in range(1, members + 1)]
        before = _commandstats(client)
        began = time.perf_counter()
        for n, session in enumerate(sessions):
            await presence.subscribed(session, TOPIC, False)
            if rate:
                await asyncio.sleep(max(0.0, began + (n + 1) / rate - time.perf_counter()))
        sent = time.perf_counter() - began
        while tracker().pending or presence_store.read_sync(TOPIC, "count").members < members:
            await asyncio.sleep(0.005)  # polling the writer and Redis, bounded by the observer's wait below
        stored = time.perf_counter() - began
        await asyncio.wait_for(seen["joined"].wait(), 120)
        settled = time.perf_counter() - began
        after = _commandstats(client)

        cold = await _snapshot(cold_url)  # the first watcher on a process: it reads every member from Redis
        snapshot = await _snapshot(url)  # a process that relays the topic already: its copy is current
        read_began = time.perf_counter()
        listed = await asyncio.to_thread(presence.members, TOPIC)
        read_ms = (time.perf_counter() - read_began) * 1000

        leave_began = time.perf_counter()
        for session in sessions:
            presence.left(session)  # as each connection's close does
        await asyncio.wait_for(seen["left"].wait(), 120)
        left = time.perf_counter() - leave_began

    commands = sum(after.values()) - sum(before.values()) - 1  # minus the INFO itself
    scripts = sum(after.get(name, 0) - before.get(name, 0) for name in ("cmdstat_evalsha", "cmdstat_eval"))
    return {
        "members": members,
        "rate": rate or "storm",
        "joins sent (s)": round(sent, 3),
        "in Redis (s)": round(stored, 3),
        "observer settled (s)": round(settled, 3),
        "Redis commands / join": round(commands / members, 2),
        "script calls / join": round(scripts / members, 4),
        "snapshot frames": snapshot["frames"],
        "snapshot KB": round(snapshot["bytes"] / 1024, 1),
        "snapshot ms (first on a process, copy current)": (round(cold["ms"], 1), round(snapshot["ms"], 1)),
        "members() ms": round(read_ms, 1),
        "members() listed": len(listed),
        "all left, observer (s)": round(left, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rate", type=float, nargs="*", default=[0.0, 1000.0])
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")
    os.environ.setdefault("HUB_REDIS_PREFIX", "benchpresence%d" % os.getpid())
    from notifications.embedded_redis import EmbeddedRedis, free_port

    redis_server = None
    if not os.environ.get("REDIS_URL"):
        redis_server = EmbeddedRedis(Path("/tmp") / f"bench-presence-redis-{os.getpid()}")
        os.environ["REDIS_URL"] = redis_server.start()
    port, cold_port = free_port(), free_port()
    servers = [_start_server(port, dict(os.environ)), _start_server(cold_port, dict(os.environ))]
    try:
        import django

        django.setup()
        for rate in args.rate:
            urls = [f"ws://127.0.0.1:{number}/ws/" for number in (port, cold_port)]
            figures = asyncio.run(run(*urls, args.members, rate))
            print(json.dumps(figures))
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        if redis_server is not None:
            redis_server.stop()
            redis_server.remove_files()


if __name__ == "__main__":
    main()
