"""An open connection has only the rights its user has now, on every server process, within 2 s.

Each user here holds two connections: a session-cookie socket on one Daphne process and
a token socket on another. A change of rights (made in this process, as a view or the
admin would) reaches both through Redis.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group, Permission
from django.test import Client

from conftest import LiveHub
from notifications import publish, tokens

pytestmark = pytest.mark.django_db(transaction=True)

WITHIN = 2.0  # seconds the issue allows between a change and its effect


class Socket:
    """A raw hub socket that collects frames; ``close_code`` once the hub closed it."""

    def __init__(self, connection: Any):
        self.connection = connection
        self.frames: asyncio.Queue[dict] = asyncio.Queue()
        self.close_code: int | None = None
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.connection:
                await self.frames.put(json.loads(text))
        except websockets.ConnectionClosed:
            pass
        self.close_code = self.connection.close_code

    async def request(self, frame: dict) -> dict:
        """Send ``frame`` with a ref and return the reply carrying it."""
        frame = {**frame, "ref": id(frame)}
        await self.connection.send(json.dumps(frame))
        return await self.next(lambda reply: reply.get("ref") == frame["ref"])

    async def next(self, wanted: Any, timeout: float = 10.0) -> dict:
        """Return the next frame for which ``wanted(frame)`` holds, skipping others."""
        async with asyncio.timeout(timeout):
            while not wanted(frame := await self.frames.get()):
                pass
        return frame

    async def closed(self, timeout: float) -> int | None:
        """Wait for the hub to close the socket; return the close code."""
        await asyncio.wait_for(asyncio.shield(self.reader), timeout)
        return self.close_code


@asynccontextmanager
async def both_sockets(live_hub: LiveHub, second_hub: LiveHub, user: Any) -> AsyncIterator[tuple[Socket, Socket]]:
    """Open a session-cookie socket on one process and a token socket on the other; yield both after hello."""
    browser = Client()
    await sync_to_async(browser.force_login)(user)
    cookie = "sessionid=" + browser.cookies["sessionid"].value
    token = await sync_to_async(tokens.mint)(user)
    by_session = await websockets.connect(live_hub.ws_url, additional_headers={"Cookie": cookie})
    by_token = await websockets.connect(
        second_hub.ws_url, subprotocols=["hub.v1", "hub.token." + token.replace(":", ".")]
    )
    sockets = (Socket(by_session), Socket(by_token))
    try:
        for socket in sockets:
            assert (await socket.next(lambda frame: frame["type"] == "hello"))["user"] == user.pk
        yield sockets
    finally:
        for socket in sockets:
            await socket.connection.close()


def lost(stream: str) -> Any:
    return lambda frame: frame == {"type": "unsubscribed", "topic": stream, "reason": "forbidden", "ref": None}


def lost_any(frame: dict) -> bool:
    return frame.get("type") == "unsubscribed" and frame.get("reason") == "forbidden"


async def still_flowing(sockets: tuple[Socket, ...], topic: str = "chat.rights") -> None:
    """An event published to a still-allowed topic reaches every socket."""
    await publish.ato_topic(topic, "message", "still here")
    for socket in sockets:
        await socket.next(lambda frame: frame.get("data") == "still here")


async def subscribe_all(sockets: tuple[Socket, ...], *topics: str) -> None:
    for socket in sockets:
        for topic in topics:
            assert (await socket.request({"type": "subscribe", "topic": topic}))["type"] == "subscribed"


async def test_demoted_staff_lose_staff_streams_and_keep_the_rest(
    live_hub: Any, second_hub: Any, make_user: Any
) -> None:
    """is_staff off: dashboard.hub and broadcast.staff go (unsubscribed, forbidden); chat keeps flowing."""
    sam = await sync_to_async(make_user)("sam", is_staff=True)
    async with both_sockets(live_hub, second_hub, sam) as sockets:
        await subscribe_all(sockets, "dashboard.hub", "chat.rights")
        sam.is_staff = False
        await sync_to_async(sam.save)()
        for socket in sockets:
            gone = {(await socket.next(lost_any, WITHIN))["topic"] for _ in range(2)}
            assert gone == {"dashboard.hub", "broadcast.staff"}
        await publish.abroadcast("for-staff", 1, audience="staff")
        await still_flowing(sockets)
        for socket in sockets:
            assert all(frame.get("event") != "for-staff" for frame in list(socket.frames._queue))  # type: ignore[attr-defined]
            assert (await socket.request({"type": "subscribe", "topic": "dashboard.hub"}))["code"] == "forbidden"


@pytest.mark.parametrize("change", ["password", "deactivated", "deleted"])
async def test_dead_credentials_close_every_socket(live_hub: Any, second_hub: Any, make_user: Any, change: str) -> None:
    """A password change, deactivation or deletion closes session and token sockets with 4001."""
    ann = await sync_to_async(make_user)("ann")
    async with both_sockets(live_hub, second_hub, ann) as sockets:
        if change == "password":
            ann.set_password("a-new-password-9")
            await sync_to_async(ann.save)()
        elif change == "deactivated":
            ann.is_active = False
            await sync_to_async(ann.save)()
        else:
            await sync_to_async(ann.delete)()
        assert [await socket.closed(WITHIN) for socket in sockets] == [4001, 4001]


async def test_a_removed_group_and_permission_take_their_streams(
    live_hub: Any, second_hub: Any, make_user: Any
) -> None:
    """Out of a group: its broadcast stream goes; a permission removed (direct or by group): its dashboard goes."""
    bob = await sync_to_async(make_user)("bob")
    editors = await sync_to_async(Group.objects.create)(name="editors-rights")
    viewers = await sync_to_async(Group.objects.create)(name="viewers-rights")
    view_sales = await sync_to_async(Permission.objects.get)(codename="view_sales")
    await sync_to_async(bob.groups.add)(editors, viewers)
    await sync_to_async(viewers.permissions.add)(view_sales)
    async with both_sockets(live_hub, second_hub, bob) as sockets:
        await subscribe_all(sockets, "dashboard.sales", "chat.rights")
        await sync_to_async(bob.groups.remove)(editors)
        for socket in sockets:
            await socket.next(lost(f"broadcast.group.{editors.pk}"), WITHIN)
        await sync_to_async(viewers.permissions.remove)(view_sales)
        for socket in sockets:
            await socket.next(lost("dashboard.sales"), WITHIN)
        await still_flowing(sockets)


async def test_a_direct_permission_removed_takes_its_topic(live_hub: Any, second_hub: Any, make_user: Any) -> None:
    """user_permissions.remove(view_sales): dashboard.sales goes on both sockets."""
    alice = await sync_to_async(make_user)("alice")
    view_sales = await sync_to_async(Permission.objects.get)(codename="view_sales")
    await sync_to_async(alice.user_permissions.add)(view_sales)
    async with both_sockets(live_hub, second_hub, alice) as sockets:
        await subscribe_all(sockets, "dashboard.sales", "chat.rights")
        await sync_to_async(alice.user_permissions.remove)(view_sales)
        for socket in sockets:
            await socket.next(lost("dashboard.sales"), WITHIN)
        await still_flowing(sockets)


async def test_revoked_tokens_close_token_sockets_only(live_hub: Any, second_hub: Any, make_user: Any) -> None:
    """hub_token --revoke: the token socket closes with 4001, the session socket goes on; old tokens are refused."""
    carl = await sync_to_async(make_user)("carl")
    old_token = await sync_to_async(tokens.mint)(carl)
    async with both_sockets(live_hub, second_hub, carl) as (by_session, by_token):
        await subscribe_all((by_session,), "chat.rights")
        await sync_to_async(tokens.revoke)(carl)
        assert await by_token.closed(WITHIN) == 4001
        await still_flowing((by_session,))
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(second_hub.ws_url + "?token=" + old_token)


async def test_the_python_client_sends_its_token_outside_the_url(live_hub: Any, make_user: Any, tmp_path: Path) -> None:
    """HubClient authenticates through the subprotocol header: Daphne's access log never shows the token."""
    from notifications.client import HubClient

    dana = await sync_to_async(make_user)("dana")
    token = await sync_to_async(tokens.mint)(dana)
    async with HubClient(live_hub.ws_url, token=token, reconnect=False) as hub:
        assert hub.hello is not None and hub.hello["user"] == dana.pk
        assert "token" not in hub.url
