"""The consumer, driven in-process by WebsocketCommunicator on the Redis channel layer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from django.test import override_settings

from notifications import protocol, publish, redis_client, tokens
from notifications.asgi import websocket_app

websocket_application = websocket_app(tune_gc=False)

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def open_socket(path: str = "/ws/") -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(websocket_application, path, headers=[ORIGIN])
    connected, code = await communicator.connect(timeout=5)
    assert connected, code
    return communicator, await communicator.receive_json_from(timeout=5)


async def ask(communicator: WebsocketCommunicator, frame: Any) -> dict:
    text = frame if isinstance(frame, str) else json.dumps(frame)
    await communicator.send_to(text_data=text)
    return await communicator.receive_json_from(timeout=5)


@pytest.fixture
async def alice(make_user: Any) -> AsyncIterator[Any]:
    yield await database_sync_to_async(make_user)("alice")


@pytest.fixture
async def visitor() -> AsyncIterator[WebsocketCommunicator]:
    communicator, _hello = await open_socket()
    yield communicator
    await communicator.disconnect()


async def test_visitor_gets_hello_without_user() -> None:
    """A visitor's first frame is hello with user null and the heartbeat."""
    communicator, hello = await open_socket()
    assert hello["type"] == "hello" and hello["user"] is None
    assert hello["heartbeat"] == 25 and len(hello["connection"]) == 32
    await communicator.disconnect()


async def test_token_user_gets_own_events_without_subscribing(alice: Any) -> None:
    """A token connection is its user; events sent to that user arrive on their stream."""
    token = await database_sync_to_async(tokens.mint)(alice)
    communicator, hello = await open_socket(f"/ws/?token={token}")
    assert hello["user"] == alice.pk
    event_id = await publish.ato_user(alice, "greeting", {"n": 1})
    frame = await communicator.receive_json_from(timeout=5)
    assert frame == {
        "type": "event", "topic": f"user.{alice.pk}", "event": "greeting", "data": {"n": 1},
        "id": event_id, "ts": frame["ts"],
    }  # fmt: skip
    await communicator.disconnect()


async def test_subscribe_publish_ping_unsubscribe(visitor: WebsocketCommunicator) -> None:
    """The request frames each get their reply, carrying the ref."""
    subscribed = await ask(visitor, {"type": "subscribe", "topic": "chat.room1", "ref": "a"})
    assert subscribed == {"type": "subscribed", "topic": "chat.room1", "position": subscribed["position"], "ref": "a"}
    assert protocol.is_event_id(subscribed["position"])
    published = await ask(
        visitor, {"type": "publish", "topic": "chat.room1", "event": "message", "data": {"text": "hi"}, "ref": 7}
    )
    assert published["type"] == "published" and published["ref"] == 7
    event = await visitor.receive_json_from(timeout=5)
    assert (event["topic"], event["event"], event["data"], event["id"]) == (
        "chat.room1",
        "message",
        {"text": "hi"},
        published["id"],
    )
    assert event["sender"] is None
    assert await ask(visitor, {"type": "ping", "ref": 3}) == {"type": "pong", "ref": 3}
    assert (await ask(visitor, {"type": "unsubscribe", "topic": "chat.room1"}))["type"] == "unsubscribed"
    await publish.ato_topic("chat.room1", "message", {"text": "after"})
    assert await ask(visitor, {"type": "ping"}) == {"type": "pong", "ref": None}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", protocol.BAD_JSON),
        ("[1, 2]", protocol.BAD_FRAME),
        ('{"no": "type"}', protocol.BAD_FRAME),
        ({"type": "dance"}, protocol.UNKNOWN_TYPE),
        ({"type": "subscribe"}, protocol.BAD_FRAME),
        ({"type": "publish", "topic": "chat.a"}, protocol.BAD_FRAME),
        ({"type": "subscribe", "topic": "chat.a", "since": 5}, protocol.BAD_FRAME),
        ({"type": "subscribe", "topic": "Not A Topic"}, protocol.INVALID_TOPIC),
        ({"type": "subscribe", "topic": "chat." + "x" * 90}, protocol.INVALID_TOPIC),
        ({"type": "subscribe", "topic": "secret.things"}, protocol.INVALID_TOPIC),
        ({"type": "subscribe", "topic": "user.1"}, protocol.INVALID_TOPIC),
        ({"type": "subscribe", "topic": "dashboard.sales"}, protocol.FORBIDDEN),
        ({"type": "publish", "topic": "dashboard.sales", "event": "x"}, protocol.FORBIDDEN),
        ({"type": "unsubscribe", "topic": "chat.never"}, protocol.NOT_SUBSCRIBED),
        ({"type": "publish", "topic": "chat.a", "event": "m", "data": "x" * 40000}, protocol.TOO_LARGE),
    ],
)
async def test_client_mistakes_get_error_codes_and_the_socket_stays_usable(
    visitor: WebsocketCommunicator, frame: Any, code: str
) -> None:
    """Each kind of bad frame gets its stable error code; the connection still answers."""
    reply = await ask(visitor, frame)
    assert reply["type"] == "error" and reply["code"] == code, reply
    assert reply["message"]
    assert await ask(visitor, {"type": "ping", "ref": 1}) == {"type": "pong", "ref": 1}


async def test_error_carries_the_ref(visitor: WebsocketCommunicator) -> None:
    """An error answering a request carries that request's ref."""
    reply = await ask(visitor, {"type": "subscribe", "topic": "nope.x", "ref": "r1"})
    assert (reply["code"], reply["ref"]) == (protocol.INVALID_TOPIC, "r1")


async def test_binary_frame_is_refused(visitor: WebsocketCommunicator) -> None:
    """A binary frame gets bad_frame."""
    await visitor.send_to(bytes_data=b"\x00\x01")
    reply = await visitor.receive_json_from(timeout=5)
    assert reply["code"] == protocol.BAD_FRAME


async def test_oversize_frame_closes_with_4009(visitor: WebsocketCommunicator) -> None:
    """A frame over HUB_MAX_FRAME_BYTES gets too_large, then the socket closes with 4009."""
    await visitor.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 70000}))
    assert (await visitor.receive_json_from(timeout=5))["code"] == protocol.TOO_LARGE
    closed = await visitor.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", protocol.CLOSE_TOO_LARGE)


async def test_flood_is_rate_limited_then_closed_with_4029() -> None:
    """Frames beyond the burst get rate_limited; a client that keeps flooding is closed with 4029."""
    with override_settings(HUB_RATE_BURST=5, HUB_RATE_LIMIT=0.5):
        communicator, _hello = await open_socket()
        for _ in range(5):
            assert (await ask(communicator, {"type": "subscribe", "topic": "chat.flood"}))["type"] == "subscribed"
        codes = []
        while True:
            await communicator.send_to(text_data='{"type": "subscribe", "topic": "chat.flood"}')
            output = await communicator.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                break
            codes.append(json.loads(output["text"])["code"])
        assert codes and set(codes) == {protocol.RATE_LIMITED}
        assert output["code"] == protocol.CLOSE_FLOOD


async def test_subscription_cap() -> None:
    """Subscribing beyond HUB_MAX_SUBSCRIPTIONS gets too_many_subscriptions."""
    with override_settings(HUB_MAX_SUBSCRIPTIONS=3):
        communicator, _hello = await open_socket()
        for room in "abc":
            assert (await ask(communicator, {"type": "subscribe", "topic": f"chat.{room}"}))["type"] == "subscribed"
        assert (await ask(communicator, {"type": "subscribe", "topic": "chat.d"}))[
            "code"
        ] == protocol.TOO_MANY_SUBSCRIPTIONS
        assert (await ask(communicator, {"type": "subscribe", "topic": "chat.a"}))["type"] == "subscribed"
        await communicator.disconnect()


async def test_permission_grants_dashboard(alice: Any) -> None:
    """A user with demo.view_sales may subscribe to a dashboard."""

    def grant() -> str:
        alice.user_permissions.add(Permission.objects.get(codename="view_sales"))
        return tokens.mint(alice)

    token = await database_sync_to_async(grant)()
    communicator, _hello = await open_socket(f"/ws/?token={token}")
    assert (await ask(communicator, {"type": "subscribe", "topic": "dashboard.sales"}))["type"] == "subscribed"
    await communicator.disconnect()


async def test_visitors_refused_when_anonymous_is_off() -> None:
    """With HUB_ALLOW_ANONYMOUS off a visitor is closed with 4003 before any hello."""
    with override_settings(HUB_ALLOW_ANONYMOUS=False):
        communicator = WebsocketCommunicator(websocket_application, "/ws/", headers=[ORIGIN])
        connected, _code = await communicator.connect(timeout=5)
        assert connected
        closed = await communicator.receive_output(timeout=5)
        assert (closed["type"], closed["code"]) == ("websocket.close", protocol.CLOSE_ANONYMOUS_REFUSED)


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", b"https://127.0.0.1.evil.example"])
async def test_cross_site_origin_is_refused(origin: bytes) -> None:
    """A page of another site cannot open a socket."""
    communicator = WebsocketCommunicator(websocket_application, "/ws/", headers=[(b"origin", origin)])
    connected, _code = await communicator.connect(timeout=5)
    assert not connected


async def test_bad_token_is_refused() -> None:
    """A forged token refuses the handshake instead of falling back to a visitor."""
    communicator = WebsocketCommunicator(websocket_application, "/ws/?token=forged:token", headers=[ORIGIN])
    connected, _code = await communicator.connect(timeout=5)
    assert not connected


async def test_connect_hooks_send_their_events_after_hello(alice: Any) -> None:
    """A registered on_connect hook's messages reach each new connection, for its user."""
    from notifications import groups, registry

    def greet(user: Any) -> list[dict]:
        name = user.get_username() if user.is_authenticated else "visitor"
        return [groups.event_message(stream="broadcast.everyone", event="welcome", data=name, ts=0)]

    registry.on_connect(greet)
    try:
        token = await database_sync_to_async(tokens.mint)(alice)
        communicator, _hello = await open_socket(f"/ws/?token={token}")
        assert (await communicator.receive_json_from(timeout=5))["data"] == "alice"
        visitor, _hello = await open_socket()
        assert (await visitor.receive_json_from(timeout=5))["data"] == "visitor"
    finally:
        registry._connect_hooks.remove(greet)


async def test_a_coroutine_connect_hook_is_awaited(alice: Any) -> None:
    """An ``async def`` on_connect hook runs on the event loop and its messages follow hello likewise."""
    from notifications import groups, registry

    async def greet(user: Any) -> list[dict]:
        return [groups.event_message(stream="broadcast.everyone", event="welcome", data=user.get_username(), ts=0)]

    registry.on_connect(greet)
    try:
        token = await database_sync_to_async(tokens.mint)(alice)
        communicator, _hello = await open_socket(f"/ws/?token={token}")
        assert (await communicator.receive_json_from(timeout=5))["data"] == "alice"
    finally:
        registry._connect_hooks.remove(greet)


def _members(group: str) -> set[str]:
    """The channels of this process (this test's loop) in ``group``."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()._get_layer()
    return set(layer.groups.get(layer._get_group_channel_name(group), ()))


async def test_a_consumer_that_fails_leaves_every_group() -> None:
    """An error inside the consumer (here a connect hook) leaves no channel behind in any group."""
    from notifications import groups, registry

    def broken(user: Any) -> list[dict]:
        raise RuntimeError("broken hook")

    registry.on_connect(broken)
    try:
        communicator = WebsocketCommunicator(websocket_application, "/ws/", headers=[ORIGIN])
        await communicator.connect(timeout=5)
        with pytest.raises(RuntimeError, match="broken hook"):
            while True:  # hello, then the hook's error ends the consumer
                await communicator.receive_output(timeout=5)
    finally:
        registry._connect_hooks.remove(broken)
    assert _members(groups.audience_group(groups.EVERYONE)) == set()


async def test_failing_app_frames_and_unknown_messages_do_not_break_the_socket(visitor: WebsocketCommunicator) -> None:
    """A handler that raises answers server_error; a message of unknown type is ignored."""
    from channels.layers import get_channel_layer

    from notifications import groups, registry

    @registry.client_frame("test.boom")
    def boom(user: Any, frame: dict) -> dict:
        raise ValueError("boom")

    try:
        reply = await ask(visitor, {"type": "test.boom", "ref": 9})
        assert (reply["code"], reply["ref"]) == (protocol.SERVER_ERROR, 9)
    finally:
        registry._frame_handlers.pop("test.boom")
    await get_channel_layer().group_send(groups.audience_group(groups.EVERYONE), {"type": "no.such.handler"})
    assert await ask(visitor, {"type": "ping", "ref": 2}) == {"type": "pong", "ref": 2}


async def test_after_a_flood_close_nothing_more_is_sent_and_groups_are_left() -> None:
    """Frames queued behind a 4029 close get no answer, and the disconnect leaves every group."""
    from notifications import groups

    with override_settings(HUB_RATE_BURST=2, HUB_RATE_LIMIT=0.1):
        communicator, _hello = await open_socket()
        for _ in range(10):
            await communicator.send_to(text_data='{"type": "ping"}')
        outputs = []
        while (output := await communicator.receive_output(timeout=5))["type"] != "websocket.close":
            outputs.append(output)
        assert output["code"] == protocol.CLOSE_FLOOD
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
    assert _members(groups.audience_group(groups.EVERYONE)) == set()


@override_settings(HUB_PUBLISH_BURST=3, HUB_PUBLISH_RATE=0.01)
async def test_publishes_are_capped_per_user_across_sockets(alice: Any) -> None:
    """One user's sockets share one publish bucket (in Redis): past the burst, rate_limited on any of them."""
    token = await database_sync_to_async(tokens.mint)(alice)
    first, _ = await open_socket(f"/ws/?token={token}")
    second, _ = await open_socket(f"/ws/?token={token}")
    frame = {"type": "publish", "topic": "chat.capped", "event": "message", "data": 1}
    answers = []
    for socket in (first, second, first, second):
        await socket.send_json_to(frame)
        while (answer := await socket.receive_json_from(timeout=5))["type"] == "event":
            pass
        answers.append(answer.get("code", answer["type"]))
    assert answers == ["published", "published", "published", "rate_limited"]
    await first.disconnect()
    await second.disconnect()
    # The bucket outlives the test (user ids come back in other tests): empty it.
    redis_client.client().delete(f"{redis_client.prefix()}:limits:publish:user.{alice.pk}")
