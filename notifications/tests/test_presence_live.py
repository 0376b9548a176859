"""Presence across real server processes: several sockets per user, on two Daphne processes, and a SIGKILL.

``live_hub`` and ``second_hub`` (conftest.py) are the two processes; the SIGKILL test starts two
of its own with a 2 s HUB_PRESENCE_TIMEOUT.

Each user connects with a hub token (subprotocol), as scripts do; every socket asks for
presence when it subscribes and builds what it knows from the frames it receives.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import websockets
from asgiref.sync import sync_to_async

from conftest import LiveHub, daphne_command, port_open, start_process, stop_process, subprocess_env
from notifications import presence, redis_client, tokens
from notifications.embedded_redis import free_port
from notifications.tests.presence_view import PRESENCE_FRAMES, PresenceView

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 2  # HUB_PRESENCE_TIMEOUT of the processes in the SIGKILL test (presence_settings)


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, **env: str) -> tuple[Any, LiveHub]:
    port = free_port()
    log = tmp_path_factory.mktemp(name) / "daphne.log"
    process = start_process(daphne_command(port), log, lambda: port_open(port), name, env=subprocess_env(**env))
    return process, LiveHub(port)


class Socket:
    """A raw hub socket: frames are queued, and presence frames build its view."""

    def __init__(self, connection: Any):
        self.connection = connection
        self.frames: asyncio.Queue[dict] = asyncio.Queue()
        self.view = PresenceView()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.connection:
                frame = json.loads(text)
                self.view.apply(frame)
                await self.frames.put(frame)
        except websockets.ConnectionClosed:
            pass

    async def next(self, wanted: Any, timeout: float = 10.0) -> dict:
        """Return the next frame for which ``wanted(frame)`` holds, skipping others."""
        async with asyncio.timeout(timeout):
            while not wanted(frame := await self.frames.get()):
                pass
        return frame

    async def watch(self, topic: str) -> None:
        """Subscribe to ``topic`` asking for presence; return once its snapshot is in."""
        await self.connection.send(json.dumps({"type": "subscribe", "topic": topic, "presence": True, "ref": 1}))
        await self.next(lambda frame: frame["type"] == "presence" and frame["page"] == frame["pages"])

    async def sees(self, topic: str, usernames: list[str], timeout: float = 10.0) -> None:
        """Wait until this socket's view of ``topic`` lists exactly ``usernames``."""
        async with asyncio.timeout(timeout):
            while self.view.usernames(topic) != sorted(usernames):
                await self.next(lambda frame: frame["type"] in PRESENCE_FRAMES)

    def drain(self) -> list[dict]:
        """Return the frames received and not read yet."""
        frames = []
        while not self.frames.empty():
            frames.append(self.frames.get_nowait())
        return frames


async def connect(hub: LiveHub, user: Any) -> Socket:
    """Open a token socket of ``user`` on ``hub``; return it after hello."""
    token = await sync_to_async(tokens.mint)(user)
    connection = await websockets.connect(hub.ws_url, subprotocols=["hub.v1", "hub.token." + token.replace(":", ".")])
    socket = Socket(connection)
    await socket.next(lambda frame: frame["type"] == "hello")
    return socket


@pytest.fixture
async def sockets() -> AsyncIterator[Any]:
    """Return ``open(hub, user)``; every socket it opened is closed after the test."""
    async with AsyncExitStack() as stack:

        async def open_socket(hub: LiveHub, user: Any) -> Socket:
            socket = await connect(hub, user)
            stack.push_async_callback(socket.connection.close)
            return socket

        yield open_socket


def usernames(state: dict | None) -> list[str]:
    """Return the sorted usernames of a client's presence state (none before its snapshot)."""
    return sorted(member["username"] for member in (state or {}).get("members", []))


def connections_of(topic: str, user: Any) -> int:
    """Return the user's connections to ``topic`` as Redis counts them, over every process."""
    key = "%s:presence:%s:n" % (redis_client.prefix(), topic)
    return int(redis_client.client().hget(key, str(user.pk)) or 0)


async def test_tabs_on_two_processes_make_one_member_each(
    live_hub: LiveHub, second_hub: LiveHub, make_user: Any, sockets: Any
) -> None:
    """Alice (3 sockets) and Bob (1): both see [alice, bob]; two of Alice's closing send nothing; the third, leave in 1 s."""
    alice, bob = await sync_to_async(make_user)("alice"), await sync_to_async(make_user)("bob")
    topic = "chat.presence-tabs"
    tabs = [await sockets(live_hub, alice), await sockets(live_hub, alice), await sockets(second_hub, alice)]
    bobs = await sockets(second_hub, bob)
    for socket in [*tabs, bobs]:
        await socket.watch(topic)
    for socket in [*tabs, bobs]:
        await socket.sees(topic, ["alice", "bob"])
    assert await sync_to_async(presence.members)(topic) == [
        {"id": alice.pk, "username": "alice"},
        {"id": bob.pk, "username": "bob"},
    ]
    bobs.drain()

    await tabs[0].connection.close()  # one on each process
    await tabs[2].connection.close()
    async with asyncio.timeout(5):
        while await sync_to_async(connections_of)(topic, alice) != 1:
            await asyncio.sleep(0.02)  # polling Redis until both closes are counted, bounded
    assert [frame for frame in bobs.drain() if frame["type"] in PRESENCE_FRAMES] == []

    began = time.monotonic()
    await tabs[1].connection.close()
    left = await bobs.next(lambda frame: frame["type"] in PRESENCE_FRAMES, timeout=1.0)
    assert time.monotonic() - began < 1.0
    assert left == {"type": "leave", "topic": topic, "member": {"id": alice.pk, "username": "alice"}}
    assert await sync_to_async(presence.members)(topic) == [{"id": bob.pk, "username": "bob"}]


async def test_a_killed_process_members_leave_within_the_timeout(
    make_user: Any, sockets: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SIGKILL a process holding Bob and Carol: Alice, on another, gets their leave and members() drops them in 2 s."""
    settings = {"DJANGO_SETTINGS_MODULE": "notifications.tests.presence_settings"}
    survivor, survivor_hub = _serve(tmp_path_factory, "daphne-survivor", **settings)
    victim, victim_hub = _serve(tmp_path_factory, "daphne-victim", **settings)
    try:
        alice, bob, carol = [await sync_to_async(make_user)(name) for name in ("alice", "bob", "carol")]
        topic = "chat.presence-kill"
        watcher = await sockets(survivor_hub, alice)
        await watcher.watch(topic)
        for user in (bob, carol):
            await (await sockets(victim_hub, user)).watch(topic)
        await watcher.sees(topic, ["alice", "bob", "carol"])

        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        victim.wait()
        gone = set()
        while len(gone) < 2:
            # Bob's and Carol's frames: under load a late, redundant "join" of Alice (already in
            # the view) can still be on its way from before the kill; it says nothing of them.
            frame = await watcher.next(lambda frame: _about(frame, "bob", "carol"), timeout=TIMEOUT + 1)
            assert frame["type"] == "leave", frame
            gone.add(frame["member"]["username"])
        elapsed = time.monotonic() - killed
        assert gone == {"bob", "carol"} and elapsed <= TIMEOUT, elapsed
        assert [member["username"] for member in await sync_to_async(presence.members)(topic)] == ["alice"]
    finally:
        stop_process(survivor)
        if victim.poll() is None:
            victim.kill()


async def test_the_hub_dashboard_counts_online_users(
    live_hub: LiveHub, second_hub: LiveHub, make_user: Any, sockets: Any
) -> None:
    """Distinct signed-in users with a connection: Dora's two sockets on two processes count once, visitors not at all."""
    from notifications.dashboards import hub as hub_dashboard

    dora, eve = await sync_to_async(make_user)("dora"), await sync_to_async(make_user)("eve")
    before = await sync_to_async(presence.online_users)()
    opened = [await sockets(live_hub, dora), await sockets(second_hub, dora), await sockets(second_hub, eve)]
    visitor = await websockets.connect(live_hub.ws_url)
    assert json.loads(await visitor.recv())["type"] == "hello"
    assert await sync_to_async(presence.online_users)() == before + 2
    assert (await sync_to_async(hub_dashboard.sample)())["online_users"] == before + 2
    await visitor.close()
    for socket in opened[1:]:
        await socket.connection.close()
    async with asyncio.timeout(5):
        while await sync_to_async(presence.online_users)() != before + 1:
            await asyncio.sleep(0.02)  # polling Redis until the server processes have unsubscribed, bounded


async def test_the_python_client_keeps_presence(
    live_hub: LiveHub, second_hub: LiveHub, make_user: Any, sockets: Any
) -> None:
    """HubClient.subscribe(presence=True): presence(topic) follows joins and leaves; on_presence is called."""
    from notifications.client import HubClient

    fay, gus = await sync_to_async(make_user)("fay"), await sync_to_async(make_user)("gus")
    topic = "chat.presence-client"
    changes: list[str] = []
    async with HubClient(live_hub.ws_url, token=await sync_to_async(tokens.mint)(fay)) as client:
        client.on_presence(topic, lambda state, frame: changes.append(frame["type"]))
        await client.subscribe(topic, presence=True)
        other = await sockets(second_hub, gus)
        await other.watch(topic)
        async with asyncio.timeout(5):
            while usernames(client.presence(topic)) != ["fay", "gus"]:
                await client.next_frame()
        await other.connection.close()
        async with asyncio.timeout(5):
            while usernames(client.presence(topic)) != ["fay"]:
                await client.next_frame()
    assert changes[0] == "presence" and changes[-1] == "leave"


def _about(frame: dict, *usernames: str) -> bool:
    """Tell whether ``frame`` is a presence change of one of ``usernames``."""
    return frame["type"] in PRESENCE_FRAMES and (frame.get("member") or {}).get("username") in usernames
