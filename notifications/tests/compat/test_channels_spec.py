"""What the Channels spec allows travels through HubChannelLayer: bytes, any channel name; non-dicts do not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import asyncio as aioredis

from notifications.embedded_redis import EmbeddedRedis
from notifications.layers import History, HubChannelLayer

MESSAGE = {"type": "x", "data": b"\x00\xff", "nested": [{"raw": b""}, {"__bytes__": 1}], "text": "__bytes__"}


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private Redis for one test."""
    redis = EmbeddedRedis(tmp_path / "redis")
    yield redis.start()
    redis.stop()


async def test_bytes_arrive_as_bytes_by_send_group_send_and_blocking_group_send(redis_url: str) -> None:
    """Each way of sending delivers the same bytes back, and so does the history."""
    layer = HubChannelLayer(hosts=[redis_url], prefix="spec")
    try:
        channel = await layer.new_channel()
        await layer.group_add("g", channel)
        await layer.send(channel, MESSAGE)
        await layer.group_send("g", MESSAGE)
        await asyncio.to_thread(layer.blocking_group_send, "g", MESSAGE)
        for _ in range(3):
            assert await asyncio.wait_for(layer.receive(channel), 5) == MESSAGE
        event_id = await layer.group_send("g", MESSAGE, history=History(size=10, ttl=60))
        synced_id = await asyncio.to_thread(layer.blocking_group_send, "g", MESSAGE, History(size=10, ttl=60))
        for expected_id in (event_id, synced_id):
            assert await asyncio.wait_for(layer.receive(channel), 5) == {"id": expected_id, **MESSAGE}
        assert await layer.read_history("g", event_id) == (True, [{"id": synced_id, **MESSAGE}])
    finally:
        await layer.flush()


async def test_a_message_that_is_not_a_dict_is_refused_when_sent(redis_url: str) -> None:
    """send, group_send and blocking_group_send raise TypeError for a non-dict, as Channels requires dicts."""
    layer = HubChannelLayer(hosts=[redis_url], prefix="spec")
    try:
        with pytest.raises(TypeError, match="not a dict"):
            await layer.send("test-channel", "message.1")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not a dict"):
            await layer.group_send("g", ["message.1"])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not a dict"):
            layer.blocking_group_send("g", "message.1")  # type: ignore[arg-type]
    finally:
        await layer.flush()


async def test_receive_on_a_channel_not_made_by_new_channel_gets_what_another_layer_sends(redis_url: str) -> None:
    """upstream's test_receive_on_non_owned_general_channel, with a dict message."""
    sender = HubChannelLayer(hosts=[redis_url], prefix="spec")
    receiver = HubChannelLayer(hosts=[redis_url], prefix="spec")
    client = aioredis.Redis.from_url(redis_url)
    try:
        received = asyncio.create_task(receiver.receive("test-channel"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while dict(await client.pubsub_numsub("test-channel")).get(b"test-channel", 0) == 0:
            assert loop.time() < deadline, "receive() never subscribed"
            await asyncio.sleep(0.01)  # polling Redis, bounded by the deadline
        await sender.send("test-channel", {"type": "message.1"})
        assert await asyncio.wait_for(received, 5) == {"type": "message.1"}
    finally:
        await client.aclose()
        await sender.flush()
        await receiver.flush()
