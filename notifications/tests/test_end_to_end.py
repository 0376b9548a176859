"""End to end: Daphne in a subprocess, real websocket clients, publishes from other processes."""

from __future__ import annotations

import asyncio
import sys
from typing import Any
from unittest import mock

import pytest
import websockets
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client

from notifications import protocol, publish, tokens
from notifications.client import HubClient, HubError
from tasks.publishing import notify_topic, notify_user

ROOT = __import__("conftest").ROOT


class Rollback(Exception):
    """Raised to roll a transaction back."""


@pytest.fixture
def users(make_user: Any) -> dict[str, Any]:
    """Alice, Bob, a staff member and an editor, committed so Daphne sees them."""
    staff = make_user("sam", is_staff=True)
    editor = make_user("eve")
    editor.groups.add(Group.objects.create(name="editors"))
    return {"alice": make_user("alice"), "bob": make_user("bob"), "staff": staff, "editor": editor}


def client_for(live_hub: Any, user: Any = None) -> HubClient:
    return HubClient(live_hub.ws_url, token=tokens.mint(user) if user else None, reconnect=False)


async def test_task_and_shell_publishes_reach_the_subscriber(live_hub: Any, celery_worker: Any, users: dict) -> None:
    """A Celery task run by a real worker and the Django shell both reach a token client."""
    alice = users["alice"]
    async with client_for(live_hub, alice) as hub:
        assert hub.hello["user"] == alice.pk
        await hub.subscribe("chat.e2e")
        notify_topic.delay("chat.e2e", "from.task", {"n": 1})
        event = await hub.next_event(timeout=30)
        assert (event["topic"], event["event"], event["data"]) == ("chat.e2e", "from.task", {"n": 1})
        notify_user.delay(alice.pk, "for.you", ["a", "b"])
        event = await hub.next_event(timeout=30)
        assert (event["topic"], event["event"], event["data"]) == (f"user.{alice.pk}", "for.you", ["a", "b"])
        shell = await asyncio.create_subprocess_exec(
            sys.executable, "manage.py", "shell", "-c",
            "from notifications import publish; publish.to_topic('chat.e2e', 'from.shell', {'ok': True})",
            cwd=ROOT, env=__import__("conftest").subprocess_env(),
        )  # fmt: skip
        assert await shell.wait() == 0
        event = await hub.next_event(timeout=30)
        assert (event["topic"], event["event"], event["data"]) == ("chat.e2e", "from.shell", {"ok": True})
        assert event["id"] and isinstance(event["ts"], int)


async def test_users_only_receive_their_own_events(live_hub: Any, users: dict) -> None:
    """Bob never receives an event sent to Alice."""
    async with client_for(live_hub, users["alice"]) as alice, client_for(live_hub, users["bob"]) as bob:
        await sync_to_async(publish.to_user)(users["alice"], "private", {"secret": 1})
        await sync_to_async(publish.to_user)(users["bob"], "marker")
        assert (await alice.next_event())["event"] == "private"
        assert (await bob.next_event())["event"] == "marker"


async def test_broadcast_audiences(live_hub: Any, users: dict) -> None:
    """Visitors get everyone-broadcasts only; staff, signed-in users and group members get theirs."""
    clients = {name: client_for(live_hub, users.get(name)) for name in ("visitor", "alice", "staff", "editor")}
    for client in clients.values():
        await client.connect()
    editors = await sync_to_async(Group.objects.get)(name="editors")
    for event, audience in [("s", "staff"), ("a", "authenticated"), ("g", editors), ("e", "everyone")]:
        await sync_to_async(publish.broadcast)(event, {"to": str(audience)}, audience=audience)
    expected = {"visitor": ["e"], "alice": ["a", "e"], "staff": ["s", "a", "e"], "editor": ["a", "g", "e"]}
    for name, client in clients.items():
        received = [(await client.next_event())["event"] for _ in expected[name]]
        assert received == expected[name], name
        await client.close()


async def test_forbidden_subscribe(live_hub: Any, users: dict) -> None:
    """A user without the dashboard permission gets forbidden, and the socket goes on."""
    async with client_for(live_hub, users["bob"]) as bob:
        with pytest.raises(HubError) as refused:
            await bob.subscribe("dashboard.sales")
        assert refused.value.code == protocol.FORBIDDEN
        assert (await bob.ping())["type"] == "pong"


async def test_publish_sends_after_commit_and_never_on_rollback(live_hub: Any, users: dict) -> None:
    """Inside atomic(), an event leaves only when the transaction commits."""
    alice = users["alice"]

    def rolled_back() -> None:
        with transaction.atomic():
            publish.to_user(alice, "rolled.back")
            async_to_sync(publish.ato_user)(alice, "marker.inside")
            raise Rollback

    def committed() -> None:
        with transaction.atomic():
            publish.to_user(alice, "committed")
            async_to_sync(publish.ato_user)(alice, "marker.before.commit")

    async with client_for(live_hub, alice) as hub:
        with pytest.raises(Rollback):
            await sync_to_async(rolled_back)()
        await sync_to_async(committed)()
        await sync_to_async(publish.to_user)(alice, "marker.end")
        received = [(await hub.next_event())["event"] for _ in range(4)]
        assert received == ["marker.inside", "marker.before.commit", "committed", "marker.end"]


async def test_bad_tokens_are_refused(live_hub: Any, users: dict) -> None:
    """An expired or forged token gets the handshake refused (HTTP 403)."""
    with mock.patch("django.core.signing.time.time", return_value=1_000_000_000):
        expired = tokens.mint(users["alice"])
    good = tokens.mint(users["alice"])
    forged = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    for token in (expired, forged, "garbage"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{live_hub.ws_url}?token={token}")
        assert refused.value.response.status_code == 403


async def test_cross_site_origin_is_refused_by_the_server(live_hub: Any) -> None:
    """Daphne refuses another site's Origin and accepts its own and none."""
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(live_hub.ws_url, origin="http://evil.example")
    for origin in (f"http://127.0.0.1:{live_hub.port}", None):
        async with websockets.connect(live_hub.ws_url, origin=origin) as socket:
            assert '"hello"' in await socket.recv()


async def test_logout_closes_that_sessions_sockets(live_hub: Any, users: dict) -> None:
    """Logging out closes the sockets of that browser session with 4000, not the user's others."""
    browser = Client()
    await sync_to_async(browser.force_login)(users["alice"])
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    origin = f"http://127.0.0.1:{live_hub.port}"
    async with websockets.connect(
        live_hub.ws_url, origin=origin, additional_headers={"Cookie": cookie}
    ) as session_socket:
        async with client_for(live_hub, users["alice"]) as token_client:
            assert f'"user":{users["alice"].pk}' in await session_socket.recv()
            await sync_to_async(browser.logout)()
            await asyncio.wait_for(session_socket.wait_closed(), 10)
            assert session_socket.close_code == protocol.CLOSE_LOGGED_OUT
            assert (await token_client.ping())["type"] == "pong"


async def test_a_session_is_not_honoured_after_a_password_change(live_hub: Any, users: dict) -> None:
    """The session cookie signs the user in until their password changes; then the socket is a visitor's."""
    browser = Client()
    await sync_to_async(browser.force_login)(users["bob"])
    headers = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    async with websockets.connect(live_hub.ws_url, additional_headers=headers) as socket:
        assert f'"user":{users["bob"].pk}' in await socket.recv()
    users["bob"].set_password("a new password")
    await sync_to_async(users["bob"].save)()
    async with websockets.connect(live_hub.ws_url, additional_headers=headers) as socket:
        assert '"user":null' in await socket.recv()


async def test_bad_frames_do_not_disturb_other_clients(live_hub: Any) -> None:
    """A client sending garbage and flooding does not stop another from being served."""
    async with client_for(live_hub) as good, client_for(live_hub) as bad:
        await good.subscribe("chat.calm")
        for frame in ("{", b"\x00", '{"type":"subscribe","topic":"../etc"}', "x" * 70_000):
            try:
                await bad.send_raw(frame)
            except websockets.ConnectionClosed:
                break
        await bad.close()
        await sync_to_async(publish.to_topic)("chat.calm", "still.here")
        assert (await good.next_event())["event"] == "still.here"
