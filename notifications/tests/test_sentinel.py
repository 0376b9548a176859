"""Redis failover under load: a primary, a replica and three sentinels on loopback; the primary is killed.

The hub (Daphne) and a publisher find Redis through the sentinels (REDIS_SENTINELS). While
events are published at 50/s the primary is SIGKILLed: afterwards the subscriber holds every
event whose publish returned, or got a ``reset`` for the stream, and publishing works again,
with nothing restarted.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import ROOT, daphne_command, port_open, start_process, stop_process, subprocess_env, wait_for
from notifications.client import HubClient
from notifications.embedded_redis import EmbeddedRedis, free_port, server_binary

pytestmark = pytest.mark.django_db(transaction=True)

MASTER = "hubmaster"
PUBLISHER = """
import sys, time, django
django.setup()
from notifications import publish
from notifications.exceptions import HubUnavailable
sent = []
for n in range(int(sys.argv[1])):
    try:
        publish.to_topic("chat.failover", "tick", n)
        sent.append(n)
    except HubUnavailable:
        pass
    time.sleep(1 / 50)
print(",".join(map(str, sent)))
"""


class Sentinels:
    """Three sentinels watching one primary (quorum 2, down after 1 s)."""

    def __init__(self, directory: Path, primary_port: int):
        self.ports = [free_port() for _ in range(3)]
        self.processes = []
        for port in self.ports:
            conf = directory / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 5000\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            log = open(directory / f"sentinel-{port}.log", "wb")  # noqa: SIM115 (closed with the process)
            self.processes.append(subprocess.Popen([server_binary(), str(conf), "--sentinel"], stdout=log, stderr=log))
        for port in self.ports:
            wait_for(lambda port=port: _answers(port), timeout=10)

    @property
    def setting(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def master(self) -> tuple[str, int] | None:
        """Return the address the sentinels give for the master."""
        address = redis.Redis(port=self.ports[0], socket_timeout=2).sentinel_get_master_addr_by_name(MASTER)
        if not address:
            return None
        host = address[0].decode() if isinstance(address[0], bytes) else address[0]
        return (host, int(address[1]))

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


def _answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def failover_setup(tmp_path: Path) -> Iterator[tuple[EmbeddedRedis, EmbeddedRedis, Sentinels]]:
    """A primary, its replica, and three sentinels, all on loopback."""
    primary = EmbeddedRedis(tmp_path / "primary")
    primary.start()
    replica = EmbeddedRedis(tmp_path / "replica", arguments=("--replicaof", "127.0.0.1", str(primary.port)))
    replica.start()
    sentinels = Sentinels(tmp_path, primary.port)
    sentinel = redis.Redis(port=sentinels.ports[0], socket_timeout=2)
    wait_for(lambda: sentinel.sentinel_slaves(MASTER), timeout=20)  # the sentinels found the replica
    wait_for(lambda: redis.Redis(port=replica.port).info("replication")["master_link_status"] == "up", timeout=20)
    yield primary, replica, sentinels
    sentinels.stop()
    replica.stop()
    primary.stop()


async def test_a_primary_killed_under_load_loses_no_acknowledged_event(
    failover_setup: tuple[EmbeddedRedis, EmbeddedRedis, Sentinels], tmp_path: Path
) -> None:
    """Every event whose publish returned reaches the subscriber, or it is told reset; publishing then works."""
    primary, replica, sentinels = failover_setup
    env = subprocess_env(REDIS_SENTINELS=sentinels.setting, REDIS_SENTINEL_MASTER=MASTER)
    port = free_port()
    server = start_process(daphne_command(port), tmp_path / "daphne.log", lambda: port_open(port), "Daphne", env=env)
    try:
        hub = HubClient(f"ws://127.0.0.1:{port}/ws/", max_backoff=0.5)
        await hub.connect()
        await hub.subscribe("chat.failover")
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISHER, "400", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
        )
        received: list[Any] = []
        await _collect(hub, received, lambda: len(received) >= 50)
        primary.kill()
        output, _ = await publisher.communicate()
        sent = [int(n) for n in output.decode().strip().split(",")]
        assert sentinels.master() == ("127.0.0.1", replica.port), "the sentinels did not fail over"
        await _collect(hub, received, lambda: received[-1:] == [sent[-1]], timeout=60)

        # Publishing works again, through the same settings, with nothing restarted.
        again = subprocess.run([sys.executable, "-c", PUBLISHER, "1"], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=60)  # fmt: skip
        assert again.stdout.strip() == "0", again.stderr[-2000:]
        await _collect(hub, received, lambda: received[-1:] == [0])
        await hub.close()
    finally:
        stop_process(server)
    events = [item for item in received[:-1] if item != "reset"]
    missing = sorted(set(sent) - set(events))
    assert not missing or "reset" in received, f"lost without a reset: {missing[:20]}"
    assert "Traceback" not in (tmp_path / "daphne.log").read_text()


async def _collect(hub: HubClient, received: list[Any], until: Any, timeout: float = 30) -> None:
    """Append each chat.failover event's data (and resets as "reset") until ``until()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not until():
        frame = await hub.next_frame(timeout=max(0.1, deadline - loop.time()))
        if frame.get("topic") != "chat.failover":
            continue
        if frame["type"] == "event":
            received.append(frame["data"])
        elif frame["type"] == "reset":
            received.append("reset")
