"""Presence, in-process: the consumer on the Redis channel layer, and presence's Redis scripts driven directly.

The live tests (several Daphne processes, a SIGKILL) are in ``test_presence_live.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from notifications import presence, presence_store, registry, tokens
from notifications.asgi import websocket_app
from notifications.exceptions import InvalidTopic
from notifications.presence_tracker import PAGE_SIZE
from notifications.tests.presence_view import PresenceView

pytestmark = pytest.mark.django_db(transaction=True)

application = websocket_app(tune_gc=False)
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@registry.topic("staffroom.{room}", client_publish=True, presence=True)
def _staff_room(user: Any, room: str) -> bool:
    """A presence topic that only staff may use (declared for these tests)."""
    return bool(user.is_staff)


class Socket:
    """An in-process hub socket that keeps what it receives, and its presence view of the topics."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.seen: list[dict] = []
        self.view = PresenceView()

    async def next(self, wanted: Callable[[dict], bool], timeout: float = 5.0) -> dict:
        """Return the next frame for which ``wanted`` holds, keeping (and applying) every frame read."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.communicator.receive_json_from(timeout=timeout)
                self.seen.append(frame)
                self.view.apply(frame)
                if wanted(frame):
                    return frame

    async def until(self, condition: Callable[[Socket], bool], timeout: float = 5.0) -> None:
        """Read frames until ``condition(self)`` holds."""
        if not condition(self):
            await self.next(lambda frame: condition(self), timeout)

    async def request(self, frame: dict) -> dict:
        """Send ``frame`` with a ref; return the reply carrying it."""
        frame = {**frame, "ref": id(frame)}
        await self.communicator.send_json_to(frame)
        return await self.next(lambda reply: reply.get("ref") == frame["ref"])


@pytest.fixture
async def open_socket() -> AsyncIterator[Callable[..., Any]]:
    """Return a factory of connected sockets (a visitor, or a user's token connection); closes them after."""
    opened: list[WebsocketCommunicator] = []

    async def make(user: Any = None) -> Socket:
        path = "/ws/"
        if user is not None:
            path += "?token=" + await database_sync_to_async(tokens.mint)(user)
        communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
        connected, code = await communicator.connect(timeout=5)
        assert connected, code
        opened.append(communicator)
        socket = Socket(communicator)
        await socket.next(lambda frame: frame["type"] == "hello")
        return socket

    yield make
    for communicator in opened:
        await communicator.disconnect()


@pytest.fixture
async def users(make_user: Any) -> dict[str, Any]:
    return {name: await database_sync_to_async(make_user)(name) for name in ("alice", "bob")}


async def test_a_watcher_gets_the_snapshot_then_joins_and_leaves(open_socket: Any, users: dict) -> None:
    """presence comes after subscribed; a user's second socket sends nothing; its last one leaving sends leave."""
    alice, bob = await open_socket(users["alice"]), await open_socket(users["bob"])
    assert (await alice.request({"type": "subscribe", "topic": "chat.p1", "presence": True}))["type"] == "subscribed"
    snapshot = await alice.next(lambda frame: frame["type"] == "presence")
    assert alice.seen[-2]["type"] == "subscribed"
    assert {key: snapshot[key] for key in ("topic", "page", "pages")} == {"topic": "chat.p1", "page": 1, "pages": 1}
    await alice.until(lambda socket: socket.view.usernames("chat.p1") == ["alice"])

    await bob.request({"type": "subscribe", "topic": "chat.p1"})  # counted, without watching
    joined = await alice.next(lambda frame: frame["type"] == "join")
    assert joined == {"type": "join", "topic": "chat.p1", "member": {"id": users["bob"].pk, "username": "bob"}}
    assert await sync_to_async(presence.members)("chat.p1") == [
        {"id": users["alice"].pk, "username": "alice"},
        {"id": users["bob"].pk, "username": "bob"},
    ]
    assert await sync_to_async(presence.count)("chat.p1") == 2

    bob_again = await open_socket(users["bob"])
    await bob_again.request({"type": "subscribe", "topic": "chat.p1"})
    await bob.request({"type": "unsubscribe", "topic": "chat.p1"})
    await bob_again.communicator.disconnect()
    change = await alice.next(lambda frame: frame["type"] in ("join", "leave", "presence"))
    assert change == {"type": "leave", "topic": "chat.p1", "member": {"id": users["bob"].pk, "username": "bob"}}
    assert alice.view.usernames("chat.p1") == ["alice"]


async def test_bad_presence_value_is_a_bad_frame(open_socket: Any) -> None:
    """ "presence" must be a boolean."""
    socket = await open_socket()
    reply = await socket.request({"type": "subscribe", "topic": "chat.p2", "presence": "yes"})
    assert reply["type"] == "error" and reply["code"] == "bad_frame"


async def test_no_presence_without_the_topics_permission(open_socket: Any, users: dict, make_user: Any) -> None:
    """A user the topic refuses gets forbidden and never a presence, join or leave frame of it."""
    staff = await database_sync_to_async(make_user)("sam", is_staff=True)
    outsider, insider = await open_socket(users["alice"]), await open_socket(staff)
    refused = await outsider.request({"type": "subscribe", "topic": "staffroom.a", "presence": True})
    assert refused["code"] == "forbidden"
    await insider.request({"type": "subscribe", "topic": "staffroom.a", "presence": True})
    await insider.until(lambda socket: socket.view.usernames("staffroom.a") == ["sam"])
    await insider.communicator.disconnect()
    assert (await outsider.request({"type": "ping"}))["type"] == "pong"
    assert [frame["type"] for frame in outsider.seen] == ["hello", "error", "pong"]
    with pytest.raises(InvalidTopic):
        await sync_to_async(presence.members)("dashboard.hub")


async def test_visitors_are_counted_not_listed(open_socket: Any) -> None:
    """Visitors show as a count (visitors frames), never as members."""
    watcher = await open_socket()
    await watcher.request({"type": "subscribe", "topic": "chat.p3", "presence": True})
    others = [await open_socket() for _ in range(3)]
    for other in others:
        await other.request({"type": "subscribe", "topic": "chat.p3"})
    await watcher.until(lambda socket: socket.view.visitors.get("chat.p3") == 4)
    assert watcher.view.usernames("chat.p3") == []
    assert await sync_to_async(presence.visitors)("chat.p3") == 4
    assert await sync_to_async(presence.count)("chat.p3") == 0


async def test_a_large_snapshot_comes_in_pages(open_socket: Any) -> None:
    """2.5 pages of members arrive as three presence frames of at most PAGE_SIZE members, then the whole list."""
    many = [
        (str(n), 1, json.dumps({"id": n, "username": "user%d" % n})) for n in range(10_000, 10_000 + PAGE_SIZE * 5 // 2)
    ]
    await presence_store.apply("chat.p4", "elsewhere", 60, "full", False, many)
    try:
        watcher = await open_socket()
        await watcher.request({"type": "subscribe", "topic": "chat.p4", "presence": True})
        await watcher.until(lambda socket: len(socket.view.members.get("chat.p4", {})) == len(many))
        pages = [frame for frame in watcher.seen if frame["type"] == "presence"]
        assert [(page["page"], page["pages"], len(page["members"])) for page in pages] == [
            (1, 3, PAGE_SIZE), (2, 3, PAGE_SIZE), (3, 3, PAGE_SIZE // 2)
        ]  # fmt: skip
    finally:
        await presence_store.apply("chat.p4", "elsewhere", 60, "full", False, [])


async def test_a_dead_process_members_are_swept(open_socket: Any) -> None:
    """A process whose entry expires (it died) loses its members: members() drops them and watchers get leave."""
    ghost = [("4242", 1, json.dumps({"id": 4242, "username": "ghost"}))]
    await presence_store.apply("chat.p5", "dead-process", 0.3, "delta", False, ghost)
    watcher = await open_socket()
    await watcher.request({"type": "subscribe", "topic": "chat.p5", "presence": True})
    await watcher.until(lambda socket: socket.view.usernames("chat.p5") == ["ghost"])
    async with asyncio.timeout(3):
        while await sync_to_async(presence.members)("chat.p5"):
            await asyncio.sleep(0.05)  # polling the expiry of the dead process's entry, bounded
    left = await watcher.next(lambda frame: frame["type"] == "leave")
    assert left["member"] == {"id": 4242, "username": "ghost"}


async def test_losing_the_right_to_a_topic_is_leaving_it(open_socket: Any, make_user: Any) -> None:
    """A member demoted from staff is unsubscribed (forbidden) from the staff room, and its watchers get leave."""
    sam, tom = [await database_sync_to_async(make_user)(name, is_staff=True) for name in ("sam", "tom")]
    watcher, demoted = await open_socket(tom), await open_socket(sam)
    await watcher.request({"type": "subscribe", "topic": "staffroom.b", "presence": True})
    await demoted.request({"type": "subscribe", "topic": "staffroom.b", "presence": True})
    await watcher.until(lambda socket: socket.view.usernames("staffroom.b") == ["sam", "tom"])

    sam.is_staff = False
    await database_sync_to_async(sam.save)()
    await demoted.next(lambda frame: frame.get("type") == "unsubscribed" and frame.get("topic") == "staffroom.b")
    left = await watcher.next(lambda frame: frame["type"] in ("join", "leave", "presence"))
    assert left == {"type": "leave", "topic": "staffroom.b", "member": {"id": sam.pk, "username": "sam"}}
    assert await sync_to_async(presence.members)("staffroom.b") == [{"id": tom.pk, "username": "tom"}]
