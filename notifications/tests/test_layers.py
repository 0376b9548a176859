"""The channel layer's own guarantees, on a real (private) Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from notifications.embedded_redis import EmbeddedRedis
from notifications.layers import OVERFLOW_TYPE, HubChannelLayer, _ChannelQueue


async def test_overflow_keeps_the_connections_own_websocket_events(tmp_path: Path) -> None:
    """A full queue is replaced by one overflow message, but a queued disconnect survives."""
    redis = EmbeddedRedis(tmp_path / "redis")
    layer = HubChannelLayer(hosts=[redis.start()], prefix="t", queue_size=3)
    try:
        channel, queue = await layer.new_inbox()
        queue.put_beside({"type": "websocket.disconnect", "code": 1000})
        for n in range(5):
            layer._get_layer().deliver(channel, {"type": "hub.event", "n": n})
        drained = [queue.get_nowait() for _ in range(queue.qsize())]
        assert [item["type"] for item in drained] == [OVERFLOW_TYPE, "websocket.disconnect"]
        await layer.close_inbox(channel)
    finally:
        await layer.flush()
        redis.stop()


async def test_a_failed_subscribe_is_retried_by_the_next_group_add(tmp_path: Path) -> None:
    """A SUBSCRIBE that failed while Redis was down does not poison the group afterwards."""
    redis = EmbeddedRedis(tmp_path / "redis")
    layer = HubChannelLayer(hosts=[redis.start()], prefix="t")
    try:
        channel, _queue = await layer.new_inbox()
        redis.stop()
        with pytest.raises((RedisConnectionError, OSError)):
            await layer.group_add("g", channel)
        redis.start()
        await layer.group_add("g", channel)  # would time out if the failed attempt were still pending
        await layer.group_send("g", {"type": "x"})
        assert (await layer.receive(channel))["type"] == "x"
    finally:
        await layer.flush()
        redis.stop()


async def test_a_channel_queue_is_a_bounded_fifo_with_one_waiting_reader() -> None:
    """Items come out in order; past the bound put_nowait raises, put_beside does not; get waits."""
    queue = _ChannelQueue(maxsize=2)
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not reader.done()
    queue.put_nowait("a")
    assert await reader == "a"
    assert queue.empty()
    queue.put_nowait("b")
    queue.put_nowait("c")
    with pytest.raises(asyncio.QueueFull):
        queue.put_nowait("d")
    queue.put_beside("e")
    assert queue.qsize() == 3
    assert [await queue.get(), queue.get_nowait(), queue.get_nowait()] == ["b", "c", "e"]
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    cancelled = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="one reader"):
        await queue.get()
    queue.put_nowait("f")
    assert await asyncio.wait_for(reader, 1) == "f"
