"""No event lost: replay from history on reconnect, resets, retained state, the hand-over."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import Permission

from notifications import publish, tokens
from notifications.client import HubClient


def client_for(live_hub: Any, user: Any = None, **options: Any) -> HubClient:
    return HubClient(live_hub.ws_url, token=tokens.mint(user) if user else None, reconnect=False, **options)


async def frames_until(hub: HubClient, count: int, kinds: tuple[str, ...] = ("event", "reset")) -> list[dict]:
    frames: list[dict] = []
    while len(frames) < count:
        frame = await hub.next_frame(timeout=10)
        if frame["type"] in kinds:
            frames.append(frame)
    return frames


async def test_reconnect_with_ids_replays_200_events_exactly_once(live_hub: Any, make_user: Any) -> None:
    """Offline for 200 events on its user stream and a topic, a client gets all of them, in order, once."""
    alice = await sync_to_async(make_user)("alice")
    async with client_for(live_hub, alice) as first:
        await first.subscribe("chat.replay")
        await sync_to_async(publish.to_user)(alice, "before", 0)
        await sync_to_async(publish.to_topic)("chat.replay", "before", 0)
        await frames_until(first, 2)
        last_ids = dict(first.last_ids)

    def publish_offline() -> None:
        for n in range(200):
            publish.to_user(alice, "offline", n)
            publish.to_topic("chat.replay", "offline", n)

    await sync_to_async(publish_offline)()
    again = client_for(live_hub, alice)
    again.hello, again.last_ids = {"user": alice.pk}, last_ids
    async with again:
        await again.subscribe("chat.replay", since=last_ids["chat.replay"])
        frames = await frames_until(again, 400)
        await sync_to_async(publish.to_topic)("chat.replay", "live", "after")
        live = await again.next_event()
    user_stream = [f["data"] for f in frames if f["topic"] == f"user.{alice.pk}"]
    topic_stream = [f["data"] for f in frames if f["topic"] == "chat.replay"]
    assert user_stream == list(range(200)) and topic_stream == list(range(200))
    assert (live["event"], live["data"]) == ("live", "after")
    assert [f["id"] for f in frames] == [f["id"] for f in frames if f["type"] == "event"]


async def test_topic_replay_within_history_is_complete(live_hub: Any) -> None:
    """Subscribing with a since that history still holds replays the gap, no reset."""
    async with client_for(live_hub) as hub:
        await hub.subscribe("chat.gap")
        await sync_to_async(publish.to_topic)("chat.gap", "first")
        since = (await hub.next_event())["id"]
    for n in range(50):
        await publish.ato_topic("chat.gap", "missed", n)
    async with client_for(live_hub) as hub:
        await hub.subscribe("chat.gap", since=since)
        frames = await frames_until(hub, 50)
    assert [f["data"] for f in frames] == list(range(50))


async def test_since_older_than_history_gets_a_reset(live_hub: Any) -> None:
    """When since has been trimmed away, the client is told (reset) and gets what is left."""
    kept = settings.HUB_TOPIC_HISTORY["chat.{room}"]
    async with client_for(live_hub) as hub:
        await hub.subscribe("chat.trimmed")
        await publish.ato_topic("chat.trimmed", "first")
        since = (await hub.next_event())["id"]
    for n in range(kept + 10):
        await publish.ato_topic("chat.trimmed", "missed", n)
    async with client_for(live_hub) as hub:
        await hub.subscribe("chat.trimmed", since=since)
        frames = await frames_until(hub, kept + 1)
    assert frames[0] == {"type": "reset", "topic": "chat.trimmed"}
    assert [f["data"] for f in frames[1:]] == list(range(10, kept + 10))


async def test_lost_history_gets_a_reset(live_hub: Any) -> None:
    """A since from a stream Redis no longer has (restarted empty) gets a reset."""
    async with client_for(live_hub) as hub:
        await hub.subscribe("chat.never-written", since="1700000000000-0")
        assert await hub.next_frame() == {"type": "reset", "topic": "chat.never-written"}


async def test_retained_topic_sends_latest_state_first(live_hub: Any, make_user: Any) -> None:
    """A new subscriber of a retaining topic (dashboards) gets the latest event before live ones."""

    def viewer() -> Any:
        user = make_user("viewer")
        user.user_permissions.add(Permission.objects.get(codename="view_sales"))
        return user

    user = await sync_to_async(viewer)()
    for value in (1, 2, 3):
        await publish.ato_topic("dashboard.sales", "state", {"orders": value})
    async with client_for(live_hub, user) as hub:
        await hub.subscribe("dashboard.sales")
        assert (await hub.next_event())["data"] == {"orders": 3}
        await publish.ato_topic("dashboard.sales", "state", {"orders": 4})
        assert (await hub.next_event())["data"] == {"orders": 4}


async def test_hand_over_from_replay_to_live_has_no_gap_and_no_duplicate(live_hub: Any) -> None:
    """Events published while a client subscribes with since arrive exactly once, in order."""
    async with client_for(live_hub) as hub:
        await hub.subscribe("chat.handover")
        await publish.ato_topic("chat.handover", "start", -1)
        since = (await hub.next_event())["id"]

    async def publish_burst() -> None:
        for n in range(90):
            await publish.ato_topic("chat.handover", "n", n)
            if n % 10 == 0:
                await asyncio.sleep(0)

    async with client_for(live_hub) as hub:
        burst = asyncio.create_task(publish_burst())
        await asyncio.sleep(0.005)  # let the burst start before subscribing: the point of the test
        await hub.subscribe("chat.handover", since=since)
        await burst
        frames = await frames_until(hub, 90)
    assert [f["data"] for f in frames] == list(range(90))


@pytest.mark.parametrize(
    "since", [5, "yesterday", "1-2-3", "", "99999999999999999999-0", "1-1\n", "\u0661-\u0661", "-1-0"]
)
async def test_malformed_since_is_a_bad_frame(live_hub: Any, since: Any) -> None:
    """A since that is not an event id gets bad_frame."""
    async with client_for(live_hub) as hub:
        await hub.send_raw(f'{{"type": "subscribe", "topic": "chat.x", "since": {__import__("json").dumps(since)}}}')
        assert (await hub.next_frame())["code"] == "bad_frame"


async def test_since_beyond_any_stream_gets_a_reset_not_a_crash(live_hub: Any) -> None:
    """The largest well-formed id is answered with a reset, and the socket keeps working."""
    async with client_for(live_hub) as hub:
        await hub.subscribe("chat.far", since="9999999999999999999-0")
        assert await hub.next_frame() == {"type": "reset", "topic": "chat.far"}
        assert (await hub.ping())["type"] == "pong"


class _Collect:
    """A transport that keeps the frames a session sends."""

    wants_cursor = False
    batches = False

    def __init__(self) -> None:
        self.frames: list[dict] = []

    async def send(self, text: str, cursor: str | None = None) -> None:
        self.frames.append(json.loads(text))

    async def close(self, code: int) -> None:
        self.frames.append({"type": "closed", "code": code})


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("job.retained-test", [("event", "after, first"), ("event", "after, second")]),  # keeps 50: each, in order
        ("dashboard.retained-test", [("event", "after, second")]),  # keeps 1: the latest state, no reset
    ],
)
async def test_a_retained_topic_sends_what_came_after_the_position(topic: str, expected: list) -> None:
    """Events published between subscribed's position and the retained read are not skipped."""
    from channels.layers import get_channel_layer

    from notifications import groups
    from notifications.session import HubSession

    position = await publish.ato_topic(topic, "state", "at the position")
    await publish.ato_topic(topic, "state", "after, first")
    await publish.ato_topic(topic, "state", "after, second")
    transport = _Collect()
    session = HubSession(get_channel_layer(), "test.retained", None, transport, None)
    await session._replay_retained(topic, groups.topic_group(topic), position)
    assert [(frame["type"], frame.get("data")) for frame in transport.frames] == expected
