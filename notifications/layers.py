"""The hub's channel layer: channels-redis' pub/sub layer with three additions.

1. ``group_send(group, message, history=History(...))`` appends the message to a Redis
   stream and publishes it in one Lua script, so that the event id is assigned by
   Redis and live delivery follows id order; ``read_history`` reads it back.
2. A message arriving from Redis is decoded once per process, not once per member
   channel, and the same dict goes to every local member (frames are then encoded once).
3. Each channel's queue is bounded: a channel that falls behind gets ``hub.overflow``
   instead of growing the process without limit.
4. ``group_add`` returns once Redis has confirmed the subscription, so a history read
   after it cannot miss an event; after a lost Redis connection comes back, every local
   channel gets ``hub.resync`` to replay what it may have missed.
5. ``blocking_group_send`` is ``group_send`` for sync code (views, Celery tasks): the same
   script on the same Redis channel, run in the calling thread over one synchronous
   connection pool per process, with no event loop to hop to.

Messages are JSON so that the script can splice the id into the published message.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
from dataclasses import dataclass
from typing import Any

import redis
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _consistent_hash, _wrap_close, decode_hosts
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

OVERFLOW_TYPE = "hub.overflow"
RESYNC_TYPE = "hub.resync"
_CONFIRM_TIMEOUT = 5.0
_SYNC_TIMEOUT = 10.0  # seconds a sync publish waits for Redis, unless the hosts entry says otherwise

# KEYS: stream, published counter; ARGV: pub/sub channel, JSON object without id, max length, ttl.
_APPEND_AND_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], '*', 'm', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], '{"id":"' .. id .. '",' .. string.sub(ARGV[2], 2))
return id
"""

# KEYS[1]: stream; ARGV[1]: an event id, "" for the latest event only, or "(<ms>-0" for
# every event after that time (a resync of a stream nothing was sent on yet).
# Returns {complete, entries}: complete is 0 when ARGV[1] is no longer in the stream
# (trimmed, expired, or Redis lost it), and then entries is all that is left.
_READ_HISTORY = """
if ARGV[1] == '' then
  return {1, redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)}
end
if string.sub(ARGV[1], 1, 1) == '(' then
  return {1, redis.call('XRANGE', KEYS[1], ARGV[1], '+')}
end
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return {0, redis.call('XRANGE', KEYS[1], '-', '+')}
end
return {1, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')}
"""


@dataclass(frozen=True)
class History:
    """How much of a stream Redis keeps: at most ``size`` events, ``ttl`` seconds after the last."""

    size: int
    ttl: int


class HubChannelLayer(RedisPubSubChannelLayer):
    """Pub/sub channel layer with event history, decode-once fan-out and bounded queues."""

    def __init__(self, *args: Any, queue_size: int = 1000, symmetric_encryption_keys: Any = None, **kwargs: Any):
        if symmetric_encryption_keys:
            raise ImproperlyConfigured("HubChannelLayer does not support symmetric_encryption_keys.")
        if kwargs.pop("serializer_format", "json") != "json":
            raise ImproperlyConfigured("HubChannelLayer only supports serializer_format='json'.")
        super().__init__(*args, serializer_format="json", **kwargs)
        self.queue_size = queue_size
        self.dropped = 0
        self._hosts = decode_hosts(kwargs.get("hosts", args[0] if args else None))
        self._prefix = kwargs.get("prefix", "asgi")
        self._sync_scripts: list[Any] | None = None

    def blocking_group_send(self, group: str, message: dict, history: History | None = None) -> str | None:
        """``group_send`` from sync code, in the calling thread; with ``history``, return the event id.

        Thread-safe and fork-safe (redis-py's pools reconnect in a forked child); raises
        ``redis.RedisError`` when Redis is unreachable, after at most ``socket_timeout``.
        """
        group_channel = _group_channel(self._prefix, group)
        script = self._sync_script(group_channel)
        if history is None:
            script.registered_client.publish(group_channel, json.dumps(message, separators=(",", ":")))
            return None
        keys, args = _append_and_publish_call(self._prefix, group, message, history)
        return _event_id(script(keys=keys, args=args))

    def _sync_script(self, group_channel: str) -> Any:
        """Return the append-and-publish script bound to the sync client of this channel's shard."""
        scripts = self._sync_scripts
        if scripts is None:
            # No lock (none to inherit locked across a fork): two threads racing here each
            # build a list, one is kept, and the other's idle pools are garbage collected.
            scripts = self._sync_scripts = [
                _sync_client(host).register_script(_APPEND_AND_PUBLISH) for host in self._hosts
            ]
        return scripts[_consistent_hash(group_channel, len(scripts))]

    def _get_layer(self) -> HubLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = HubLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer

    def deserialize(self, message: bytes | dict) -> dict:
        """Decode ``message``; messages from Redis arrive here already decoded."""
        if isinstance(message, dict):
            return message
        return super().deserialize(message)


def _group_channel(prefix: str, group: str) -> str:
    """Return the pub/sub channel of ``group``, named as channels-redis' ``_get_group_channel_name`` does."""
    return f"{prefix}__group__{group}"


def _history_key(prefix: str, group: str) -> str:
    """Return the key of the Redis stream that keeps ``group``'s events."""
    return f"{prefix}:history:{group}"


def _append_and_publish_call(prefix: str, group: str, message: dict, history: History) -> tuple[list[str], list[Any]]:
    """Return the keys and arguments of ``_APPEND_AND_PUBLISH`` for one message to ``group``."""
    keys = [_history_key(prefix, group), f"{prefix}:metrics:published"]
    payload = json.dumps(message, separators=(",", ":"))
    return keys, [_group_channel(prefix, group), payload, history.size, history.ttl]


def _event_id(reply: bytes | str) -> str:
    return reply.decode() if isinstance(reply, bytes) else reply


def _sync_client(host: dict[str, Any]) -> redis.Redis:
    """Return a synchronous client for one ``hosts`` entry, as channels-redis' ``create_pool`` reads it.

    No retries: a script re-sent after a read timeout could publish the same event twice.
    A connection Redis closed while idle is replaced when the pool hands it out.
    """
    timeouts = {"socket_timeout": _SYNC_TIMEOUT, "socket_connect_timeout": _SYNC_TIMEOUT}
    host = {**timeouts, "retry": Retry(NoBackoff(), 0), **host}
    if "address" in host:
        return redis.Redis.from_url(host.pop("address"), **host)
    if "master_name" in host:
        sentinel = redis.Sentinel(host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None) or timeouts)
        return sentinel.master_for(host.pop("master_name"), **host)
    return redis.Redis(**host)


class HubLoopLayer(RedisPubSubLoopLayer):
    """The per-event-loop half of :class:`HubChannelLayer`."""

    def __init__(self, hosts: Any = None, **kwargs: Any):
        super().__init__(hosts, **kwargs)
        self._shards = [_HubShard(host, self) for host in decode_hosts(hosts)]

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = _ChannelQueue(maxsize=self.channel_layer.queue_size)
        await self._get_shard(channel).subscribe(channel)

    async def group_send(self, group: str, message: dict, history: History | None = None) -> str | None:
        """Send ``message`` to ``group``; with ``history``, also keep it and return its id."""
        if history is None:
            await super().group_send(group, message)
            return None
        keys, args = _append_and_publish_call(self.prefix, group, message, history)
        return await self._get_shard(self._get_group_channel_name(group)).append_and_publish(keys, args)

    async def new_inbox(self) -> tuple[str, _ChannelQueue]:
        """Return a new channel and its queue, for a consumer that reads the queue directly."""
        channel = await self.new_channel()
        return channel, self.channels[channel]

    async def close_inbox(self, channel: str) -> None:
        """Forget a channel opened by :meth:`new_inbox` and stop listening for it."""
        if self.channels.pop(channel, None) is not None:
            await self._get_shard(channel).unsubscribe(channel)

    async def read_history(self, group: str, since: str | None) -> tuple[bool, list[dict]]:
        """Return ``(complete, events)``: the group's events after ``since``, in order.

        With ``since`` None, the latest event only. ``complete`` is False when ``since``
        is no longer in the history: ``events`` is then everything still kept.
        """
        stream = _history_key(self.prefix, group)
        complete, entries = await self._get_shard(self._get_group_channel_name(group)).read_history(stream, since or "")
        events = []
        for event_id, fields in entries:
            event = json.loads(dict(zip(fields[::2], fields[1::2], strict=True))[b"m"])
            event["id"] = event_id.decode()
            events.append(event)
        return bool(complete), events

    def resync(self) -> None:
        """Tell every local channel to replay what it may have missed while Redis was away."""
        for channel in list(self.channels):
            self.deliver(channel, {"type": RESYNC_TYPE})

    def deliver(self, channel: str, message: dict) -> None:
        """Queue ``message`` for a local channel, or overflow it if its queue is full."""
        queue = self.channels.get(channel)
        if queue is None:
            return
        if queue.overflowed:
            self.channel_layer.dropped += 1  # its consumer is closing; the client will replay
            return
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflow(channel)

    def overflow(self, channel: str) -> None:
        """Replace a full channel's backlog with one ``hub.overflow`` message; drop what follows."""
        queue = self.channels[channel]
        drained = []
        while not queue.empty():
            drained.append(queue.get_nowait())
        # The connection's own websocket events (a disconnect above all) are kept.
        kept = [item for item in drained if str(item.get("type", "")).startswith("websocket.")]
        dropped = len(drained) - len(kept) + 1
        queue.put_nowait({"type": OVERFLOW_TYPE, "dropped": dropped})
        for item in kept:
            queue.put_beside(item)
        queue.overflowed = True
        self.channel_layer.dropped += dropped
        logger.warning("Channel %s fell %d messages behind; it is told to close.", channel, dropped)


class _ChannelQueue:
    """A channel's bounded queue for its one reader; once it overflowed it takes nothing more.

    The part of ``asyncio.Queue`` a channel uses, without its three deques and its Event
    (about 3 KB per queue): an idle connection's queue is two empty slots.
    """

    __slots__ = ("maxsize", "overflowed", "_items", "_waiter")

    def __init__(self, maxsize: int = 0):
        self.maxsize = maxsize
        self.overflowed = False
        self._items: collections.deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        """Return how many items wait."""
        return len(self._items) if self._items is not None else 0

    def empty(self) -> bool:
        """Tell whether nothing waits."""
        return self._items is None

    def put_nowait(self, item: Any) -> None:
        """Queue ``item``, or raise ``asyncio.QueueFull`` once ``maxsize`` items wait."""
        if 0 < self.maxsize <= self.qsize():
            raise asyncio.QueueFull
        self.put_beside(item)

    def put_beside(self, item: Any) -> None:
        """Queue ``item`` past the bound: the connection's own websocket events, never dropped."""
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> Any:
        """Return the next item, or raise ``asyncio.QueueEmpty``."""
        items = self._items
        if items is None:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self._items = None
        return item

    async def get(self) -> Any:
        """Wait for the next item and return it; a channel has one reader at a time."""
        while self._items is None:
            if self._waiter is not None:
                raise RuntimeError("a channel queue has one reader; another get() is waiting")
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        return self.get_nowait()


class _HubShard(RedisSingleShardConnection):
    """One Redis connection pair of a loop layer: decodes each message once."""

    _script: Any = None
    _reader: Any = None

    def __init__(self, host: Any, channel_layer: HubLoopLayer):
        super().__init__(host, channel_layer)
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._resubscribed = 0

    async def subscribe(self, channel: str) -> None:
        """Subscribe to ``channel`` and wait until Redis confirms it."""
        async with self._lock:
            waiter = self._confirmations.get(channel)
            if waiter is None and channel not in self._subscribed_to:
                self._ensure_redis()
                self._ensure_receiver()
                waiter = asyncio.get_running_loop().create_future()
                self._confirmations[channel] = waiter
                try:
                    await self._pubsub.subscribe(channel)
                except BaseException as error:
                    # Not left pending: the next group_add must send SUBSCRIBE again.
                    del self._confirmations[channel]
                    waiter.set_exception(error)
                    waiter.exception()  # retrieved: no "never retrieved" warning
                    raise
                self._subscribed_to.add(channel)
        if waiter is not None:
            try:
                await asyncio.wait_for(asyncio.shield(waiter), _CONFIRM_TIMEOUT)
            finally:
                if self._confirmations.get(channel) is waiter and waiter.done():
                    del self._confirmations[channel]

    async def read_history(self, stream: str, since: str) -> list:
        """Run the history script (see ``_READ_HISTORY``)."""
        async with self._lock:
            self._ensure_redis()
            if self._reader is None or self._reader.registered_client is not self._redis:
                self._reader = self._redis.register_script(_READ_HISTORY)
            return await self._reader(keys=[stream], args=[since])

    async def _do_receiving(self) -> None:
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    self._dispatch(await self._pubsub.get_message(timeout=0.1))
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except Exception:
                logger.exception("Redis pub/sub connection lost; retrying every second")
                await asyncio.sleep(1)  # back off before reconnecting

    def _dispatch(self, message: dict | None) -> None:
        if message is None:
            return
        if message["type"] == "subscribe":
            name = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            waiter = self._confirmations.pop(name, None)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(None)
                return
            # redis-py re-subscribes every channel after it reconnects; once all are
            # back, events published meanwhile can only be found in the history.
            self._resubscribed += 1
            if self._resubscribed >= len(self._subscribed_to):
                self._resubscribed = 0
                logger.warning("Redis pub/sub subscriptions restored; local channels resync from history.")
                self.channel_layer.resync()
        elif message["type"] == "message":
            self._receive_message(message)

    async def append_and_publish(self, keys: list[str], args: list[Any]) -> str:
        """Run the append-and-publish script; return the id Redis gave the event."""
        async with self._lock:
            self._ensure_redis()
            if self._script is None or self._script.registered_client is not self._redis:
                self._script = self._redis.register_script(_APPEND_AND_PUBLISH)
            return _event_id(await self._script(keys=keys, args=args))

    def _receive_message(self, message: dict) -> None:
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels:
            targets: Any = (name,)
        elif name in layer.groups:
            targets = layer.groups[name]
        else:
            return
        decoded = layer.channel_layer.deserialize(message["data"])
        for channel in targets:
            layer.deliver(channel, decoded)
