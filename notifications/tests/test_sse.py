"""The hub over Server-Sent Events, against a live Daphne: the same frames, POSTed client frames, resume."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from notifications import publish, tokens

pytestmark = pytest.mark.django_db(transaction=True)


class SseClient:
    """A minimal ``text/event-stream`` reader: each message's ``id`` and parsed ``data``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int):
        self.reader, self.writer, self.status = reader, writer, status
        self.last_id: str | None = None
        self.comments = 0

    async def next_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        """Return the next message's frame (remembering its ``id:``, as EventSource does)."""
        return await asyncio.wait_for(self._next(), timeout)

    async def frame_of(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """Return the next frame of type ``kind``, skipping others."""
        while (frame := await self.next_frame(timeout))["type"] != kind:
            pass
        return frame

    async def _next(self) -> dict[str, Any]:
        data: list[str] = []
        while True:
            line = (await self.reader.readline()).decode()
            if not line:
                raise ConnectionError("the stream ended")
            line = line.rstrip("\r\n")
            if line == "" and data:
                return json.loads("\n".join(data))
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("id: "):
                self.last_id = line[4:]
            elif line.startswith("data: "):
                data.append(line[6:])


@asynccontextmanager
async def sse(
    live_hub: Any, query: list[tuple[str, str]] = (), headers: dict[str, str] | None = None
) -> AsyncIterator[SseClient]:
    """Open ``GET /hub/sse/?query`` with ``headers``; yield the client positioned at the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", live_hub.port)
    lines = [f"GET /hub/sse/?{urlencode(list(query))} HTTP/1.1", f"Host: 127.0.0.1:{live_hub.port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    status = int((await reader.readline()).split()[1])
    content_type = ""
    while (line := (await reader.readline()).decode().rstrip("\r\n")) != "":
        if line.lower().startswith("content-type:"):
            content_type = line.split(":", 1)[1].strip()
    client = SseClient(reader, writer, status)
    assert status != 200 or content_type.startswith("text/event-stream"), content_type
    try:
        yield client
    finally:
        writer.close()


def post(live_hub: Any, connection: str, frame: Any, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """POST a client frame to an SSE connection; return the status and the JSON answer."""
    body = frame if isinstance(frame, bytes) else json.dumps(frame).encode()
    request = urllib.request.Request(
        f"{live_hub.http_url}/hub/sse/{connection}/", data=body, method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        return error.code, json.loads(body) if body.startswith(b"{") else {"html": body[:80]}


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": "Bearer " + tokens.mint(user)}


async def test_the_stream_carries_hello_positions_and_events_with_a_cursor(live_hub: Any, make_user: Any) -> None:
    """hello comes first with positions and an id line; a user event follows with the cursor moved on."""
    alice = await sync_to_async(make_user)("alice")
    async with sse(live_hub, [("token", tokens.mint(alice))]) as stream:
        hello = await stream.next_frame()
        assert hello["type"] == "hello" and hello["user"] == alice.pk
        assert set(hello["positions"]) == {f"user.{alice.pk}", "broadcast.everyone", "broadcast.authenticated"}
        assert stream.last_id is not None and f"user.{alice.pk}=" in stream.last_id
        event_id = await publish.ato_user(alice, "hi", {"n": 1})
        event = await stream.frame_of("event")
        assert (event["event"], event["data"], event["id"]) == ("hi", {"n": 1}, event_id)
        assert f"user.{alice.pk}={event_id}" in stream.last_id


async def test_client_frames_go_by_post_and_their_replies_come_on_the_stream(live_hub: Any, make_user: Any) -> None:
    """subscribe and publish POSTed to the connection are answered on the stream, with their refs."""
    alice = await sync_to_async(make_user)("alice")
    async with sse(live_hub, [("token", tokens.mint(alice))]) as stream:
        connection = (await stream.next_frame())["connection"]
        assert await sync_to_async(post)(live_hub, connection, {"type": "subscribe", "topic": "chat.sse", "ref": 1},
                                         bearer(alice)) == (202, {"accepted": True})  # fmt: skip
        subscribed = await stream.frame_of("subscribed")
        assert (subscribed["topic"], subscribed["ref"]) == ("chat.sse", 1) and "chat.sse=" in stream.last_id
        frame = {"type": "publish", "topic": "chat.sse", "event": "message", "data": {"text": "hi"}, "ref": 2}
        await sync_to_async(post)(live_hub, connection, frame, bearer(alice))
        published = await stream.frame_of("published")
        event = await stream.frame_of("event")
        assert (published["ref"], event["id"], event["sender"]["id"]) == (2, published["id"], alice.pk)
        await sync_to_async(post)(live_hub, connection, {"type": "nonsense", "ref": 3}, bearer(alice))
        assert (await stream.frame_of("error"))["code"] == "unknown_type"


async def test_last_event_id_resumes_every_stream_exactly_once(live_hub: Any, make_user: Any) -> None:
    """Gone with Last-Event-ID = the hello cursor: 5 events on the user, broadcast and topic streams come back once."""
    alice = await sync_to_async(make_user)("alice")
    query = [("token", tokens.mint(alice)), ("topic", "chat.resume")]
    async with sse(live_hub, query) as stream:
        await stream.frame_of("subscribed")
        cursor = stream.last_id
    for n in range(5):
        await publish.ato_user(alice, "mine", n)
        await publish.abroadcast("news", n, audience="authenticated")
        await publish.ato_topic("chat.resume", "message", n)
    async with sse(live_hub, query, {"Last-Event-ID": cursor}) as stream:
        events = [await stream.frame_of("event") for _ in range(15)]
        await publish.ato_topic("chat.resume", "message", "live")
        live = await stream.frame_of("event")
    by_stream: dict[str, list] = {}
    for event in events:
        by_stream.setdefault(event["topic"], []).append(event["data"])
    expected = list(range(5))
    assert by_stream == {f"user.{alice.pk}": expected, "broadcast.authenticated": expected, "chat.resume": expected}
    assert live["data"] == "live"


async def test_posts_are_refused_when_they_are_not_the_callers(live_hub: Any, make_user: Any) -> None:
    """Another user's connection and forged ones are unknown (404); a body that is not an object is 400."""
    alice, bob = await sync_to_async(make_user)("alice"), await sync_to_async(make_user)("bob")
    async with sse(live_hub, [("token", tokens.mint(alice))]) as stream:
        connection = (await stream.next_frame())["connection"]
        ping = {"type": "ping"}
        assert (await sync_to_async(post)(live_hub, connection, ping, bearer(bob)))[0] == 404
        assert (await sync_to_async(post)(live_hub, connection + "x", ping, bearer(alice)))[0] == 404
        assert (await sync_to_async(post)(live_hub, connection, b"[1]", bearer(alice)))[0] == 400
        assert (await sync_to_async(post)(live_hub, connection, ping))[0] == 403  # no token, no CSRF token


async def test_a_session_user_needs_the_csrf_token_to_post(live_hub: Any, make_user: Any) -> None:
    """With the session cookie, a POST without X-CSRFToken is 403; with it, 202."""
    alice = await sync_to_async(make_user)("alice")
    browser = Client(enforce_csrf_checks=True)
    await sync_to_async(browser.force_login)(alice)
    await sync_to_async(browser.get)("/accounts/login/")  # sets the csrftoken cookie
    cookies = {name: morsel.value for name, morsel in browser.cookies.items()}
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    async with sse(live_hub, headers={"Cookie": cookie}) as stream:
        hello = await stream.next_frame()
        assert hello["user"] == alice.pk
        headers = {"Cookie": cookie, "Origin": live_hub.http_url, "Referer": live_hub.http_url + "/"}
        status, _ = await sync_to_async(post)(live_hub, hello["connection"], {"type": "ping"}, headers)
        assert status == 403
        headers["X-CSRFToken"] = cookies["csrftoken"]
        status, _ = await sync_to_async(post)(live_hub, hello["connection"], {"type": "ping", "ref": 9}, headers)
        assert status == 202 and (await stream.frame_of("pong"))["ref"] == 9


async def test_a_bad_token_is_refused_with_a_message(live_hub: Any) -> None:
    """A forged token answers 403 invalid_token, not a stream."""
    async with sse(live_hub, [("token", "forged:token")]) as stream:
        assert stream.status == 403
