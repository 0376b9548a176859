"""Failures mid-stream: the hub process restarts, Redis restarts; clients end up whole or told."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async

from conftest import ROOT, daphne_command, port_open, start_process, stop_process, subprocess_env
from notifications import publish, tokens
from notifications.client import HubClient
from notifications.embedded_redis import EmbeddedRedis, free_port

RATE = 50  # events per second, per stream
COUNT = 150


async def collect(hub: HubClient, streams: dict[str, list], until: Any, timeout: float = 30) -> None:
    """Append event data per stream (and resets as "reset") until ``until()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until():
        frame = await hub.next_frame(timeout=max(0.1, deadline - loop.time()))
        if frame["type"] == "event":
            streams.setdefault(frame["topic"], []).append(frame["data"])
        elif frame["type"] == "reset":
            streams.setdefault(frame["topic"], []).append("reset")


async def test_daphne_killed_and_restarted_loses_nothing(make_user: Any, tmp_path: Path) -> None:
    """A resuming client ends with every event exactly once, in order, across a hub crash."""
    alice = await sync_to_async(make_user)("alice")
    port = free_port()
    log = tmp_path / "daphne.log"
    server = start_process(daphne_command(port), log, lambda: port_open(port), "Daphne")
    try:
        hub = HubClient(f"ws://127.0.0.1:{port}/ws/", token=tokens.mint(alice), max_backoff=0.5)
        await hub.connect()
        await hub.subscribe("chat.crash")
        streams: dict[str, list] = {}

        async def publish_steadily() -> None:
            for n in range(COUNT):
                await publish.ato_user(alice, "tick", n)
                await publish.ato_topic("chat.crash", "tick", n)
                await asyncio.sleep(1 / RATE)  # pacing the publisher, not waiting for a result

        publisher = asyncio.create_task(publish_steadily())
        await collect(hub, streams, lambda: len(streams.get("chat.crash", [])) >= 30)
        server.send_signal(signal.SIGKILL)
        server.wait()
        server = start_process(daphne_command(port), log, lambda: port_open(port), "Daphne again")
        await publisher
        user_stream = f"user.{alice.pk}"
        await collect(
            hub, streams, lambda: len(streams.get(user_stream, [])) >= COUNT and len(streams["chat.crash"]) >= COUNT
        )
        await hub.close()
    finally:
        stop_process(server)
    assert streams[user_stream] == list(range(COUNT))
    assert streams["chat.crash"] == list(range(COUNT))


PUBLISHER = """
import os, sys, time, django
django.setup()
from notifications import publish
sent = []
for n in range(int(sys.argv[1])):
    try:
        publish.to_topic("chat.redis", "tick", n)
        sent.append(n)
    except (ConnectionError, OSError, TimeoutError):
        pass
    time.sleep(1 / 50)
print(",".join(map(str, sent)))
"""


async def test_redis_restart_recovers_and_tells_the_client(make_user: Any, tmp_path: Path) -> None:
    """After Redis restarts empty, Daphne and publishers carry on, and the client gets a reset."""
    redis = EmbeddedRedis(tmp_path / "redis")
    url = redis.start()
    port = free_port()
    env = subprocess_env(REDIS_URL=url)
    server = start_process(daphne_command(port), tmp_path / "daphne.log", lambda: port_open(port), "Daphne", env=env)
    publisher = None
    try:
        hub = HubClient(f"ws://127.0.0.1:{port}/ws/", max_backoff=0.5)
        await hub.connect()
        await hub.subscribe("chat.redis")
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISHER, "250", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
        )
        streams: dict[str, list] = {}
        await collect(hub, streams, lambda: len(streams.get("chat.redis", [])) >= 40)
        redis.stop()
        # Down for a set time, so that some publishes (one every 20 ms) find no Redis: a
        # restart faster than that was absorbed by the publisher's pool and none failed.
        await asyncio.sleep(0.5)
        redis.start()
        output, _ = await publisher.communicate()
        sent = [int(n) for n in output.decode().strip().split(",")]
        await collect(hub, streams, lambda: streams["chat.redis"][-1:] == [sent[-1]])
        received = streams["chat.redis"]
        assert "reset" in received, received
        before, after = received[: received.index("reset")], received[received.index("reset") + 1 :]
        assert before == sent[: len(before)]
        assert after == sorted(set(after)) and set(after) <= set(sent)
        assert after[-1] == sent[-1] and len(sent) < 250  # some publishes failed while Redis was down
        async with HubClient(f"ws://127.0.0.1:{port}/ws/", reconnect=False) as newcomer:
            assert (await newcomer.subscribe("chat.redis"))["type"] == "subscribed"
        await hub.close()
    finally:
        if publisher is not None and publisher.returncode is None:
            publisher.kill()
        stop_process(server)
        redis.stop()
