"""HubClient resumes every stream from its position: what was published while it was away arrives once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async

from notifications import publish, tokens
from notifications.client import HubClient

COUNT = 5


def reconnecting_client(live_hub: Any, user: Any = None) -> HubClient:
    """Return a client (not connected) that reconnects on its own, signed in as ``user`` or a visitor."""
    return HubClient(live_hub.ws_url, token=tokens.mint(user) if user else None, max_backoff=0.5)


async def next_on(hub: HubClient, stream: str) -> dict[str, Any]:
    """Return the next frame about ``stream`` (an event, or a reset), skipping frames of other streams."""
    while (frame := await hub.next_frame(timeout=10)).get("topic") != stream:
        pass
    return frame


async def away_then_back(hub: HubClient, stream: str, send: Callable[[Any], Awaitable[Any]]) -> list[tuple[str, Any]]:
    """Drop the client's socket, ``send`` 0..4 while it is away, let it reconnect; return what ``stream`` brought.

    The reconnect waits until all five are published, so only a resume can deliver them. After
    the five, a marker: whatever came before it is all the client got.
    """
    first_connection = hub.hello["connection"] if hub.hello else None
    published = asyncio.Event()
    connect = hub.connect

    async def connect_once_published() -> dict[str, Any]:
        await published.wait()
        return await connect()

    hub.connect = connect_once_published  # type: ignore[method-assign]
    await hub._socket.close()
    for n in range(COUNT):
        await send(n)
    published.set()
    frames = [await next_on(hub, stream) for _ in range(COUNT)]
    await send("marker")
    frames.append(await next_on(hub, stream))
    assert hub.hello is not None and hub.hello["connection"] != first_connection, "the client never reconnected"
    ids = [tuple(map(int, frame["id"].split("-"))) for frame in frames if frame.get("id")]
    assert ids == sorted(set(ids)), ids
    return [(frame["type"], frame.get("data")) for frame in frames]


EXPECTED = [("event", n) for n in range(COUNT)] + [("event", "marker")]


async def test_a_topic_resumes_from_its_subscribed_position(live_hub: Any) -> None:
    """Subscribed, no event yet, offline for five events of the topic: all five arrive after the reconnect, once."""
    async with reconnecting_client(live_hub) as hub:
        subscribed = await hub.subscribe("chat.client-resume")
        assert "position" in subscribed, f"the hub reports no topic position yet: {subscribed}"

        async def send(data: Any) -> None:
            await publish.ato_topic("chat.client-resume", "n", data)

        assert await away_then_back(hub, "chat.client-resume", send) == EXPECTED


async def test_the_user_stream_resumes_from_its_hello_position(live_hub: Any, make_user: Any) -> None:
    """No event yet, offline for five events to the user: all five arrive after the reconnect, once."""
    alice = await sync_to_async(make_user)("alice")
    async with reconnecting_client(live_hub, alice) as hub:
        stream = f"user.{alice.pk}"
        assert stream in (hub.hello or {}).get("positions", {}), f"hello carries no positions yet: {hub.hello}"

        async def send(data: Any) -> None:
            await publish.ato_user(alice, "n", data)

        assert await away_then_back(hub, stream, send) == EXPECTED


async def test_a_broadcast_stream_resumes_from_its_hello_position(live_hub: Any) -> None:
    """A visitor, no event yet, offline for five broadcasts to everyone: all five arrive after the reconnect, once."""
    async with reconnecting_client(live_hub) as hub:
        assert "broadcast.everyone" in (hub.hello or {}).get("positions", {}), f"no positions yet: {hub.hello}"

        async def send(data: Any) -> None:
            await publish.abroadcast("n", data)

        assert await away_then_back(hub, "broadcast.everyone", send) == EXPECTED
