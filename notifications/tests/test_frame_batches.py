"""Batches (``?batch=1``): events queued or replayed together share a websocket message, a frame per line."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings

from notifications import publish, session
from notifications.tests.test_consumer import ask, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def frames_of(message: str | bytes) -> list[dict]:
    return [json.loads(line) for line in str(message).split("\n")]


def event(n: int) -> dict:
    return {"type": "hub.event", "topic": "chat.batched", "event": "said", "data": n, "id": f"9000000000000-{n}"}


async def subscribed_with_three_queued_events(path: str) -> Any:
    """Open a socket at ``path``, subscribe it, and queue three events for it before it can take any."""
    communicator, _hello = await open_socket(path)
    await ask(communicator, {"type": "subscribe", "topic": "chat.batched"})
    layer = get_channel_layer()._get_layer()
    (inbox,) = [name for name, queue in layer.channels.items() if queue.inbox]
    for n in range(3):
        layer.deliver(inbox, event(n))  # no await between: all three wait in the queue together
    return communicator


@pytest.mark.parametrize(("delay", "first_message"), [(0.5, [0, 1, 2]), (0, [0])])
async def test_with_a_write_delay_events_that_follow_share_the_first_ones_write(
    delay: float, first_message: list[int]
) -> None:
    """HUB_WRITE_DELAY: events arriving while the first one waits go out with it; without it, it goes alone."""
    with override_settings(HUB_WRITE_DELAY=delay):
        communicator, _hello = await open_socket("/ws/?batch=1")
    await ask(communicator, {"type": "subscribe", "topic": "chat.batched"})
    layer = get_channel_layer()._get_layer()
    (inbox,) = [name for name, queue in layer.channels.items() if queue.inbox]
    layer.deliver(inbox, event(0))
    async with asyncio.timeout(5):
        while not layer.channels[inbox].empty():  # the consumer has taken event 0 (and waits, with a delay)
            await asyncio.sleep(0.01)
    layer.deliver(inbox, event(1))
    layer.deliver(inbox, event(2))
    assert [f["data"] for f in frames_of(await communicator.receive_from(timeout=5))] == first_message
    await communicator.disconnect()


async def test_queued_events_go_out_in_one_message() -> None:
    """Three events queued behind each other reach a batch=1 client as one message of three frames, in order."""
    communicator = await subscribed_with_three_queued_events("/ws/?batch=1")
    frames = frames_of(await communicator.receive_from(timeout=5))
    assert [(f["type"], f["data"]) for f in frames] == [("event", 0), ("event", 1), ("event", 2)]
    await communicator.disconnect()


async def test_without_batch_each_event_is_its_own_message() -> None:
    """A client that did not ask for batches gets one frame per message, as before."""
    communicator = await subscribed_with_three_queued_events("/ws/")
    for n in range(3):
        assert json.loads(await communicator.receive_from(timeout=5))["data"] == n
    await communicator.disconnect()


async def test_a_replay_is_split_into_batches_of_at_most_batch_frames(live_hub: Any) -> None:
    """A replay of 150 events comes as 100 frames then 50 (BATCH_FRAMES), all in order, over a real server."""
    first = await publish.ato_topic("chat.replayed", "said", -1)
    for n in range(150):
        await publish.ato_topic("chat.replayed", "said", n)
    async with websockets.connect(live_hub.ws_url + "?batch=1", max_size=None) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"type": "subscribe", "topic": "chat.replayed", "since": first}))
        assert frames_of(await socket.recv())[0]["type"] == "subscribed"
        batches = [frames_of(await socket.recv()) for _ in range(2)]
    assert [len(batch) for batch in batches] == [session.BATCH_FRAMES, 50]
    assert [f["data"] for batch in batches for f in batch] == list(range(150))


async def test_a_replay_without_batch_is_one_frame_per_message(live_hub: Any) -> None:
    """The same replay to a client without ?batch=1 is 150 messages of one frame each."""
    first = await publish.ato_topic("chat.unbatched", "said", -1)
    await sync_to_async(lambda: [publish.to_topic("chat.unbatched", "said", n) for n in range(150)])()
    async with websockets.connect(live_hub.ws_url, max_size=None) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"type": "subscribe", "topic": "chat.unbatched", "since": first}))
        assert json.loads(await socket.recv())["type"] == "subscribed"
        data = [json.loads(await socket.recv())["data"] for _ in range(150)]
    assert data == list(range(150))
