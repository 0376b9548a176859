"""The channel layer's own guarantees, on a real (private) Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from notifications.embedded_redis import EmbeddedRedis
from notifications.layers import OVERFLOW_TYPE, RESYNC_TYPE, History, HubChannelLayer
from notifications.queues import ChannelQueue


@pytest.fixture
async def layer(tmp_path: Path) -> AsyncIterator[HubChannelLayer]:
    """A hub channel layer on a private Redis, flushed and stopped afterwards."""
    redis = EmbeddedRedis(tmp_path / "redis")
    hub_layer = HubChannelLayer(hosts=[redis.start()], prefix="t")
    try:
        yield hub_layer
    finally:
        await hub_layer.flush()
        redis.stop()


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
        message = await layer.receive(channel)
        if message["type"] == RESYNC_TYPE:  # the inbox is told to resync after the restart: right, and not the point
            message = await layer.receive(channel)
        assert message["type"] == "x"
    finally:
        await layer.flush()
        redis.stop()


async def test_a_channel_queue_is_a_bounded_fifo_with_one_waiting_reader() -> None:
    """Items come out in order; past the bound put_nowait raises, put_beside does not; get waits."""
    queue = ChannelQueue(maxsize=2)
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


async def test_an_ordinary_channel_drops_what_overflows_and_warns_once_per_episode(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A new_channel() that is full keeps its first messages, gets no hub.overflow, counts and logs drops."""
    redis = EmbeddedRedis(tmp_path / "redis")
    layer = HubChannelLayer(hosts=[redis.start()], prefix="t", queue_size=3)
    caplog.set_level(logging.WARNING, logger="notifications.layers")
    try:
        channel = await layer.new_channel()
        for n in range(6):
            layer._get_layer().deliver(channel, {"type": "x", "n": n})
        assert [(await layer.receive(channel))["n"] for _ in range(3)] == [0, 1, 2]
        assert layer.dropped == 3
        assert len(caplog.records) == 1
        for n in range(6, 10):
            layer._get_layer().deliver(channel, {"type": "x", "n": n})
        assert [(await layer.receive(channel))["n"] for _ in range(3)] == [6, 7, 8]
        assert (layer.dropped, len(caplog.records)) == (4, 2)
    finally:
        await layer.flush()
        redis.stop()


async def test_after_a_redis_restart_only_inbox_channels_get_resync(tmp_path: Path) -> None:
    """The hub's inbox is told to resync; a plain channel's next message is the next one sent to it."""
    redis = EmbeddedRedis(tmp_path / "redis")
    layer = HubChannelLayer(hosts=[redis.start()], prefix="t")
    try:
        inbox, queue = await layer.new_inbox()
        channel = await layer.new_channel()
        await layer.group_add("g", inbox)
        await layer.group_add("g", channel)
        redis.stop()
        redis.start()
        assert (await asyncio.wait_for(queue.get(), 10))["type"] == RESYNC_TYPE
        await layer.send(channel, {"type": "x"})
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "x"}
    finally:
        await layer.flush()
        redis.stop()


async def test_the_first_channel_on_a_loop_is_served_without_a_fixed_sleep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """new_channel(), send and receive on a fresh layer never wait on asyncio.sleep."""
    redis = EmbeddedRedis(tmp_path / "redis")
    layer = HubChannelLayer(hosts=[redis.start()], prefix="t")
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(delay: float, *args: Any, **kwargs: Any) -> Any:
        sleeps.append(delay)
        return await real_sleep(delay, *args, **kwargs)

    monkeypatch.setattr(asyncio, "sleep", recording_sleep)
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "x"})
        assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "x"}
        assert [delay for delay in sleeps if delay > 0] == []
    finally:
        await layer.flush()
        redis.stop()


async def test_an_idle_receiver_waits_for_redis_instead_of_polling(tmp_path: Path) -> None:
    """While nothing arrives, the pub/sub reader stays in one blocking read (no wake-up every 0.1 s)."""
    redis = EmbeddedRedis(tmp_path / "redis")
    layer = HubChannelLayer(hosts=[redis.start()], prefix="t")
    try:
        channel = await layer.new_channel()
        pubsub = layer._get_layer()._shards[0]._pubsub
        reads: list[Any] = []
        get_message = pubsub.get_message

        async def counting_get_message(*args: Any, **kwargs: Any) -> Any:
            reads.append(kwargs.get("timeout"))
            return await get_message(*args, **kwargs)

        pubsub.get_message = counting_get_message
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(channel), 0.35)
        assert reads == []
    finally:
        await layer.flush()
        redis.stop()


async def test_inboxes_share_one_pattern_subscription_and_hear_sends_from_other_processes(tmp_path: Path) -> None:
    """Opening inboxes subscribes nothing per inbox; a send from another layer (process) still arrives."""
    redis = EmbeddedRedis(tmp_path / "redis")
    url = redis.start()
    layer, other = HubChannelLayer(hosts=[url], prefix="t"), HubChannelLayer(hosts=[url], prefix="t")
    try:
        inboxes = [await layer.new_inbox() for _ in range(20)]
        client = layer._get_layer()._shards[0]._redis
        assert await client.pubsub_numpat() == 1 and await client.pubsub_channels() == []
        channel, queue = inboxes[7]
        await other.send(channel, {"type": "hub.frame", "text": "hi"})
        async with asyncio.timeout(5):
            assert (await queue.get())["text"] == "hi"
        await layer.close_inbox(channel)
        await other.send(channel, {"type": "hub.frame", "text": "gone"})  # to a closed inbox: nowhere, no error
        assert await client.pubsub_numpat() == 1
    finally:
        await layer.flush()
        await other.flush()
        redis.stop()


async def test_more_concurrent_scripts_than_the_redis_pool_holds_all_complete(layer: HubChannelLayer) -> None:
    """300 connections reading positions at once (redis-py's pool holds 100) all get their answer."""
    loop_layer = layer._get_layer()
    answers = await asyncio.gather(*(loop_layer.read_positions([f"g{n}"]) for n in range(300)))
    assert answers == [{f"g{n}": "0-0"} for n in range(300)]


async def test_concurrent_replays_of_a_stream_share_one_read(layer: HubChannelLayer) -> None:
    """50 replays asked at once, from 10 positions, cost one script run; each gets exactly its events."""
    ids = [await layer.group_send("room", {"type": "hub.event", "n": n}, history=History(100, 60)) for n in range(10)]
    client = layer._get_layer()._shards[0]._redis
    before = (await client.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    sinces = [ids[n % 10] for n in range(50)]
    answers = await asyncio.gather(*(layer.read_history("room", since) for since in sinces))
    after = (await client.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    assert after - before <= 2  # the first caller's read, and one for all who asked meanwhile
    for since, (complete, events) in zip(sinces, answers, strict=True):
        assert complete and [event["n"] for event in events] == list(range(ids.index(since) + 1, 10))
    latest = {id(events[-1]) for complete, events in answers if events}
    assert len(latest) <= 2  # the same decoded event, handed to every caller of a read


async def test_a_shared_read_still_tells_each_position_whether_it_is_complete(layer: HubChannelLayer) -> None:
    """Read together, a trimmed-away position gets a reset (everything kept) while a kept one gets its tail."""
    ids = [await layer.group_send("room", {"type": "hub.event", "n": n}, history=History(5, 60)) for n in range(8)]
    (old, old_events), (kept, kept_events) = await asyncio.gather(
        layer.read_history("room", ids[0]), layer.read_history("room", ids[5])
    )
    assert not old and [event["n"] for event in old_events] == [3, 4, 5, 6, 7]
    assert kept and [event["n"] for event in kept_events] == [6, 7]


async def test_scripts_run_in_the_order_they_were_called_unless_told_otherwise(layer: HubChannelLayer) -> None:
    """200 ordered scripts called at once reach Redis in call order (presence's writes depend on it)."""
    push = "return redis.call('RPUSH', KEYS[1], ARGV[1])"
    await asyncio.gather(*(layer.run_script("order", push, ["order"], [n]) for n in range(200)))
    client = layer._get_layer()._shards[0]._redis
    assert [int(item) for item in await client.lrange("order", 0, -1)] == list(range(200))


async def _calls(client: Any, command: str) -> int:
    return int((await client.info("commandstats")).get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_group_adds_of_the_same_moment_share_one_subscribe(layer: HubChannelLayer) -> None:
    """200 connections joining their own groups at once cost a few SUBSCRIBEs; each group still hears its sends."""
    inboxes = [await layer.new_inbox() for _ in range(200)]
    client = layer._get_layer()._shards[0]._redis
    before = await _calls(client, "subscribe")
    await asyncio.gather(*(layer.group_add(f"user{n}", channel) for n, (channel, _queue) in enumerate(inboxes)))
    assert await _calls(client, "subscribe") - before <= 3  # one for the first, one for all who asked meanwhile
    assert len(await client.pubsub_channels()) == 200
    await asyncio.gather(*(layer.group_send(f"user{n}", {"type": "x", "n": n}) for n in range(200)))
    async with asyncio.timeout(5):
        assert [(await queue.get())["n"] for _channel, queue in inboxes] == list(range(200))


async def test_a_group_left_and_joined_in_the_same_moment_ends_as_last_asked(layer: HubChannelLayer) -> None:
    """Join-then-leave ends unsubscribed; leave-then-join keeps the subscription without an UNSUBSCRIBE."""
    (first, _), (second, queue) = await layer.new_inbox(), await layer.new_inbox()
    client = layer._get_layer()._shards[0]._redis
    unsubscribes = await _calls(client, "unsubscribe")
    await asyncio.gather(layer.group_add("brief", first), layer.group_discard("brief", first))
    await layer.group_add("stays", second)
    await asyncio.gather(layer.group_discard("stays", second), layer.group_add("stays", second))
    await layer.group_add("later", second)  # sent after the moment above: Redis has seen it all
    assert sorted(channel.decode() for channel in await client.pubsub_channels()) == [
        "t__group__later",
        "t__group__stays",
    ]
    assert await _calls(client, "unsubscribe") == unsubscribes + 1  # only "brief"'s
    await layer.group_send("stays", {"type": "x"})
    async with asyncio.timeout(5):
        assert (await queue.get())["type"] == "x"


async def test_positions_asked_at_once_share_one_read(layer: HubChannelLayer) -> None:
    """100 connects reading their positions at once cost a couple of script runs; each gets its streams'."""
    latest = await layer.group_send("room", {"type": "hub.event"}, history=History(10, 60))
    client = layer._get_layer()._shards[0]._redis
    before = await _calls(client, "evalsha")
    answers = await asyncio.gather(*(layer._get_layer().read_positions(["room", f"user{n}"]) for n in range(100)))
    assert await _calls(client, "evalsha") - before <= 2  # the first caller's read, and one for all who asked meanwhile
    assert answers == [{"room": latest, f"user{n}": "0-0"} for n in range(100)]


async def test_a_join_during_a_redis_restart_does_not_swallow_the_resync(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A group_add that reconnects pub/sub first (the reader still backing off) still gets old inboxes resynced."""
    redis = EmbeddedRedis(tmp_path / "redis")
    layer = HubChannelLayer(hosts=[redis.start()], prefix="t")
    caplog.set_level(logging.WARNING, logger="notifications.layers")
    try:
        (old, queue), (new, _) = await layer.new_inbox(), await layer.new_inbox()
        await layer.group_add("g", old)
        redis.stop()
        async with asyncio.timeout(10):
            while "connection lost" not in caplog.text:  # the reader saw it go, and backs off for a second
                await asyncio.sleep(0.01)
        redis.start()
        await layer.group_add("h", new)  # reconnects pub/sub itself: redis-py re-subscribes "g" first
        assert (await asyncio.wait_for(queue.get(), 10))["type"] == RESYNC_TYPE
    finally:
        await layer.flush()
        redis.stop()


async def test_a_shard_that_fails_a_shared_positions_read_fails_only_its_own_callers(tmp_path: Path) -> None:
    """With one of two Redis shards down, connects whose streams live on the other still get their positions."""
    up, down = EmbeddedRedis(tmp_path / "up"), EmbeddedRedis(tmp_path / "down")
    layer = HubChannelLayer(hosts=[up.start(), down.start()], prefix="t")
    try:
        loop_layer = layer._get_layer()
        shard_of = {name: loop_layer._get_shard(loop_layer._get_group_channel_name(name)) for name in "abcdefgh"}
        healthy = next(name for name in shard_of if shard_of[name] is loop_layer._shards[0])
        broken = next(name for name in shard_of if shard_of[name] is loop_layer._shards[1])
        down.stop()
        fine, failed = await asyncio.gather(
            loop_layer.read_positions([healthy]), loop_layer.read_positions([broken]), return_exceptions=True
        )
        assert fine == {healthy: "0-0"}
        assert isinstance(failed, (RedisConnectionError, OSError))
    finally:
        await layer.flush()
        up.stop()
        down.stop()
