"""The hub's channel layer: channels-redis' pub/sub layer with three additions.

1. ``group_send(group, message, history=History(...))`` appends the message to a Redis
   stream and publishes it in one Lua script, so that the event id is assigned by
   Redis and live delivery follows id order; ``read_history`` reads it back.
2. A message arriving from Redis is decoded once per process, not once per member
   channel, and the same dict goes to every local member (frames are then encoded once).
3. Each channel's queue is bounded (``queue_size``). A channel opened with ``new_inbox``
   (the hub's consumer) that falls behind gets ``hub.overflow`` instead of growing the
   process without limit; an ordinary ``new_channel`` drops the new message instead, as
   channels-redis does at capacity, counted in ``dropped`` and logged once per episode.
4. ``group_add`` returns once Redis has confirmed the subscription, so a history read
   after it cannot miss an event; after a lost Redis connection comes back, every local
   inbox channel gets ``hub.resync`` to replay what it may have missed.
5. ``blocking_group_send`` is ``group_send`` for sync code (views, Celery tasks): the same
   script on the same Redis channel, run in the calling thread over one synchronous
   connection pool per process, with no event loop to hop to.

6. Channels opened with ``new_inbox`` share a per-process prefix that each Redis shard
   hears through one pattern subscription (``PSUBSCRIBE <prefix>specific.<process>!*``),
   so a connection opens and closes its channel without a Redis round trip; the Lua
   scripts that only read for a connect (positions, history) run side by side, at most
   ``_SCRIPTS_AT_ONCE`` per shard, while every other script keeps its order.

Consumers that know nothing of the hub (``new_channel``, ``receive``) never see
``hub.resync`` or ``hub.overflow``.

Intentional differences from ``RedisPubSubChannelLayer`` (the compatibility run in
``notifications/tests/compat/`` lists the upstream tests they affect):

- Messages are JSON, never msgpack, so that the script can splice the id into the
  published message. ``bytes`` values (allowed by the Channels spec) travel as
  ``{"__bytes__": "<base64>"}`` and come back as ``bytes``; a dict of exactly that shape
  is therefore reserved. No ``symmetric_encryption_keys``.
- A message that is not a dict raises ``TypeError`` when sent, as Channels requires dicts
  (channels-redis' core layer and ``InMemoryChannelLayer`` refuse them too); one that
  arrives from Redis anyway is dropped, counted and logged.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _consistent_hash, _wrap_close, decode_hosts
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from notifications import protocol
from notifications.batching import Batch
from notifications.queues import ChannelQueue

logger = logging.getLogger(__name__)

OVERFLOW_TYPE = "hub.overflow"
RESYNC_TYPE = "hub.resync"
_CONFIRM_TIMEOUT = 5.0
_SCRIPTS_AT_ONCE = 32  # Lua scripts in flight per shard and event loop (each holds a pooled connection)
_POSITIONS_AT_ONCE = 500  # streams per positions script: Redis stays free for others between them
_SYNC_TIMEOUT = 10.0  # seconds a sync publish waits for Redis, unless the hosts entry says otherwise
_BYTES_KEY = "__bytes__"
_BYTES_MARK = b'{"__bytes__":"'  # how _encode starts a tagged bytes value; absent, no object_hook

# Each stream has a small hash beside it ("<stream>:meta") that outlives its events:
# "last" is the id of the newest event ever appended, "born" the first id it held (the
# first event's, or "0-0" when a position of the still empty stream was handed out), and
# "floor" the newest id trimmed away. With them a replay from a position is exact, and
# says so when events after it may be gone: trimmed, expired, or lost by Redis (a stream
# and meta recreated since).
_META_TTL = 86_400  # seconds the meta outlives the last event, at least

# KEYS: stream, published counter, meta; ARGV: pub/sub channel, JSON object without id,
# max length, ttl, meta ttl. The id goes last in the published object, so it wins over a
# message's own "id".
_APPEND_AND_PUBLISH = """
local maxlen = tonumber(ARGV[3])
local length = redis.call('XLEN', KEYS[1])
if length >= maxlen then
  local gone = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - maxlen + 1)
  redis.call('HSET', KEYS[3], 'floor', gone[#gone][1])
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', maxlen, '*', 'm', ARGV[2])
redis.call('HSET', KEYS[3], 'last', id)
redis.call('HSETNX', KEYS[3], 'born', id)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[5])
redis.call('INCR', KEYS[2])
local message
if ARGV[2] == '{}' then
  message = '{"id":"' .. id .. '"}'
else
  message = string.sub(ARGV[2], 1, -2) .. ',"id":"' .. id .. '"}'
end
redis.call('PUBLISH', ARGV[1], message)
return id
"""

# KEYS: stream, meta; ARGV[1]: an event id (the position to replay from), or "" for the
# latest event only. Returns {complete, entries}: complete is 0 when events after the
# position may be gone, and then entries is all that is left. A position is safe when it
# is still in the stream (trimming takes the oldest first); "0-0" when the stream has
# been kept whole since it was handed out; a vanished stream's last id when its meta
# says nothing came after.
_READ_HISTORY = """
if ARGV[1] == '' then
  return {1, redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)}
end
local since = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 then
  local whole
  if since == '0-0' then
    whole = redis.call('HGET', KEYS[2], 'born') == '0-0' and redis.call('HEXISTS', KEYS[2], 'floor') == 0
  else
    whole = #redis.call('XRANGE', KEYS[1], since, since) == 1
  end
  if whole then
    return {1, redis.call('XRANGE', KEYS[1], '(' .. since, '+')}
  end
  return {0, redis.call('XRANGE', KEYS[1], '-', '+')}
end
if redis.call('HGET', KEYS[2], 'last') == since then
  return {1, {}}
end
return {0, {}}
"""

# The same for several positions of one stream at once (the replays of a reconnecting
# crowd, read once per process). KEYS: stream, meta; ARGV[1]: the lowest position, then
# every position. Returns {flags, entries}: flags[i] is 1 when the i-th position is safe
# (as above); entries are those after the lowest position, or all that is kept when one
# position is not safe.
_READ_HISTORIES = """
local exists = redis.call('EXISTS', KEYS[1]) == 1
local born, floored, last
if exists then
  born = redis.call('HGET', KEYS[2], 'born')
  floored = redis.call('HEXISTS', KEYS[2], 'floor') == 1
else
  last = redis.call('HGET', KEYS[2], 'last')
end
local flags, every = {}, false
for i = 2, #ARGV do
  local since, whole = ARGV[i], false
  if not exists then
    whole = last == since
  elseif since == '0-0' then
    whole = born == '0-0' and not floored
  else
    whole = #redis.call('XRANGE', KEYS[1], since, since) == 1
  end
  flags[#flags + 1] = whole and 1 or 0
  every = every or not whole
end
if not exists then
  return {flags, {}}
end
if every then
  return {flags, redis.call('XRANGE', KEYS[1], '-', '+')}
end
return {flags, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')}
"""

# KEYS: stream, meta, stream, meta, ...; ARGV[1]: meta ttl. Returns each stream's
# position: its latest id; for a stream without events, the last id it had, or "0-0"
# (remembered in its meta, so that a replay from it can be exact).
_POSITIONS = """
local positions = {}
for i = 1, #KEYS, 2 do
  local latest = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)
  if #latest > 0 then
    positions[#positions + 1] = latest[1][1]
  else
    local last = redis.call('HGET', KEYS[i + 1], 'last')
    if not last then
      last = '0-0'
      redis.call('HSET', KEYS[i + 1], 'last', last, 'born', last)
      redis.call('EXPIRE', KEYS[i + 1], ARGV[1])
    end
    positions[#positions + 1] = last
  end
end
return positions
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
            script.registered_client.publish(group_channel, _encode(message))
            return None
        keys, args = _append_and_publish_call(self._prefix, group, message, history)
        return _event_id(script(keys=keys, args=args))

    def blocking_recent(self, group: str, *, count: int, until: str | None = None) -> list[dict]:
        """Return the group's latest ``count`` kept events (at or before ``until``), oldest first, from sync code.

        Raises ``redis.RedisError`` when Redis is unreachable, after at most ``socket_timeout``.
        """
        client = self._sync_script(_group_channel(self._prefix, group)).registered_client
        entries = client.xrevrange(_history_key(self._prefix, group), max=until or "+", min="-", count=count)
        return [_stored_event(event_id, fields[b"m"]) for event_id, fields in reversed(entries)]

    def blocking_client(self, key: str) -> redis.Redis:
        """Return the synchronous Redis client of the shard that holds ``key`` (as ``run_script`` picks it)."""
        return self._sync_script(key).registered_client

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

    def serialize(self, message: dict) -> bytes:
        """Return ``message`` as JSON bytes (see ``_encode``); raise ``TypeError`` if it is not a dict."""
        return _encode(message).encode()

    def deserialize(self, message: bytes | str) -> Any:
        """Decode one message as published (see ``_decode``); raise ``ValueError`` if it is not JSON."""
        return _decode(message)


def _encode(message: dict) -> str:
    """Return ``message`` as compact JSON, each ``bytes`` value as ``{"__bytes__": "<base64>"}``.

    The one encoder of every path (send, group_send, history, blocking_group_send).
    """
    if not isinstance(message, dict):
        raise TypeError("message is not a dict but %s: channel layer messages are dicts" % type(message).__name__)
    return json.dumps(message, separators=(",", ":"), default=_tag_bytes)


def _tag_bytes(value: Any) -> dict[str, str]:
    """``json.dumps`` hook: return the tagged form of a bytes value; raise ``TypeError`` for anything else."""
    if isinstance(value, bytes | bytearray):
        return {_BYTES_KEY: base64.b64encode(value).decode("ascii")}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _decode(raw: bytes | str) -> Any:
    """Decode JSON written by ``_encode``, turning tagged values back into ``bytes``."""
    tagged = _BYTES_MARK in raw if isinstance(raw, bytes | bytearray) else _BYTES_MARK.decode() in raw
    if tagged:
        return json.loads(raw, object_hook=_untag_bytes)
    return json.loads(raw)  # the common case: no object_hook call per dict


def _stored_event(event_id: bytes, raw: bytes) -> dict:
    """Return a history entry as the message it was published as, with its stream id as ``id``."""
    event = _decode(raw)
    event["id"] = event_id.decode()
    return event


def _entry_event(entry: list) -> dict:
    """Return a stream entry as read by a script (``[id, [field, value, ...]]``) as its message."""
    event_id, fields = entry
    return _stored_event(event_id, dict(zip(fields[::2], fields[1::2], strict=True))[b"m"])


def _untag_bytes(obj: dict) -> Any:
    """``json.loads`` hook: return the bytes a ``{"__bytes__": "<base64>"}`` object stands for."""
    if len(obj) == 1 and isinstance(value := obj.get(_BYTES_KEY), str):
        return base64.b64decode(value)
    return obj


def _group_channel(prefix: str, group: str) -> str:
    """Return the pub/sub channel of ``group``, named as channels-redis' ``_get_group_channel_name`` does."""
    return f"{prefix}__group__{group}"


def _history_key(prefix: str, group: str) -> str:
    """Return the key of the Redis stream that keeps ``group``'s events."""
    return f"{prefix}:history:{group}"


def _append_and_publish_call(prefix: str, group: str, message: dict, history: History) -> tuple[list[str], list[Any]]:
    """Return the keys and arguments of ``_APPEND_AND_PUBLISH`` for one message to ``group``."""
    stream = _history_key(prefix, group)
    keys = [stream, f"{prefix}:metrics:published", _meta_key(stream)]
    payload = _encode(message)
    return keys, [_group_channel(prefix, group), payload, history.size, history.ttl, max(history.ttl, _META_TTL)]


def _meta_key(stream: str) -> str:
    """Return the key of the hash that remembers a stream's newest and newest-trimmed ids."""
    return f"{stream}:meta"


def _event_id(reply: bytes | str) -> str:
    return reply.decode() if isinstance(reply, bytes) else reply


def _sync_client(host: dict[str, Any]) -> redis.Redis:
    """Return a synchronous client for one ``hosts`` entry, as channels-redis' ``create_pool`` reads it.

    No retries: a script re-sent after a read timeout could publish the same event twice.
    A connection Redis closed while idle is replaced when the pool hands it out.
    """
    timeouts = {"socket_timeout": _SYNC_TIMEOUT, "socket_connect_timeout": _SYNC_TIMEOUT}
    host = {**timeouts, "retry": Retry(NoBackoff(), 0), **host}
    if "master_name" in host:
        host["sentinel_kwargs"] = host.get("sentinel_kwargs") or timeouts
    return client_for_host(host)


def client_for_host(host: dict[str, Any], *, asyncio: bool = False) -> Any:
    """Return a redis-py client (``redis.asyncio``'s with ``asyncio``) for one ``hosts`` entry.

    Reads the entry as channels-redis' ``create_pool`` does: ``address`` (a URL), Sentinel
    (``sentinels`` and ``master_name``, with ``sentinel_kwargs``), or plain connection kwargs.
    """
    module: Any = redis.asyncio if asyncio else redis
    host = dict(host)
    if "master_name" in host:
        sentinel = module.Sentinel(host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None))
        return sentinel.master_for(host.pop("master_name"), **host)
    if "address" in host:
        return module.Redis.from_url(host.pop("address"), **host)
    return module.Redis(**host)


class HubLoopLayer(RedisPubSubLoopLayer):
    """The per-event-loop half of :class:`HubChannelLayer`."""

    def __init__(self, hosts: Any = None, **kwargs: Any):
        super().__init__(hosts, **kwargs)
        self._shards = [_HubShard(host, self) for host in decode_hosts(hosts)]
        self._positions: Batch[str, str | RedisError] = Batch(self._read_positions)
        self._histories: Batch[tuple[str, str], tuple[bool, list[dict]] | RedisError] = Batch(self._read_histories)
        # Inbox channels share this prefix: one pattern subscription per shard serves them all.
        self._inbox_prefix = f"{self.prefix}specific.{uuid.uuid4().hex[:12]}!"

    async def _subscribe_to_channel(self, channel: str, inbox: bool = False) -> None:
        self.channels[channel] = ChannelQueue(maxsize=self.channel_layer.queue_size, inbox=inbox)
        await self._get_shard(channel).subscribe(channel)

    async def receive(self, channel: str) -> Any:
        """Wait for the next message on ``channel`` and return it, as decoded when it arrived.

        As upstream, a cancelled receive means its consumer is leaving: the channel is closed.
        """
        if channel not in self.channels:
            await self._subscribe_to_channel(channel)
        try:
            return await self.channels[channel].get()
        except (asyncio.CancelledError, TimeoutError, GeneratorExit):
            try:
                await self.close_inbox(channel)
            except Exception:
                logger.exception("Could not unsubscribe channel %s after its receive was cancelled", channel)
            raise

    async def group_send(self, group: str, message: dict, history: History | None = None) -> str | None:
        """Send ``message`` to ``group``; with ``history``, also keep it and return its id."""
        if history is None:
            await super().group_send(group, message)
            return None
        keys, args = _append_and_publish_call(self.prefix, group, message, history)
        return await self._get_shard(self._get_group_channel_name(group)).append_and_publish(keys, args)

    async def new_inbox(self) -> tuple[str, ChannelQueue]:
        """Return a new channel and its queue, for a consumer that reads the queue directly.

        Only such a channel gets ``hub.resync`` and ``hub.overflow``: its consumer handles them.
        Its name starts with this loop's inbox prefix (``<prefix>specific.<process>!``),
        which every shard listens to with one pattern subscription, made by the first
        inbox: so opening and closing an inbox costs no Redis round trip, and a ``send``
        to it from any process still arrives.
        """
        pattern = self._inbox_prefix + "*"
        for shard in self._shards:
            if pattern not in shard._subscribed_to:  # the first inbox, or the first since a flush
                await shard.subscribe(pattern, pattern=True)
        channel = self._inbox_prefix + uuid.uuid4().hex
        queue = self.channels[channel] = ChannelQueue(maxsize=self.channel_layer.queue_size, inbox=True)
        return channel, queue

    async def close_inbox(self, channel: str) -> None:
        """Forget a channel (opened by :meth:`new_inbox` or not) and stop listening for it."""
        if self.channels.pop(channel, None) is not None and not channel.startswith(self._inbox_prefix):
            await self._get_shard(channel).unsubscribe(channel)

    async def read_history(self, group: str, since: str | None) -> tuple[bool, list[dict]]:
        """Return ``(complete, events)``: the group's events after ``since``, in order.

        With ``since`` None, the latest event only. ``complete`` is False when events
        after ``since`` may be gone (trimmed, expired, lost by Redis): ``events`` is then
        everything still kept. The replays asked for while one is read share the next
        read: one script per stream, each event decoded once, and the same event dicts
        handed to every caller (so their frames are encoded once too). Do not change them.
        """
        if since is not None:
            answer = await self._histories.get((group, since))
            if isinstance(answer, RedisError):
                raise answer
            return answer
        stream = _history_key(self.prefix, group)
        complete, entries = await self._get_shard(self._get_group_channel_name(group)).read_history(stream, "")
        return bool(complete), [_entry_event(entry) for entry in entries]

    async def _read_histories(
        self, asked: list[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[bool, list[dict]] | RedisError]:
        """Answer several ``(group, since)`` replays: one script per group, run side by side."""
        by_group: dict[str, set[str]] = {}
        for group, since in asked:
            by_group.setdefault(group, set()).add(since)
        answers: dict[tuple[str, str], tuple[bool, list[dict]] | RedisError] = {}

        async def read(group: str, positions: set[str]) -> None:
            ordered = sorted(positions, key=protocol.sequence)
            stream = _history_key(self.prefix, group)
            shard = self._get_shard(self._get_group_channel_name(group))
            keys, args = [stream, _meta_key(stream)], [ordered[0], *ordered]
            try:
                flags, entries = await shard.run(_READ_HISTORIES, keys, args, ordered=False)
            except RedisError as error:  # this stream's callers get the error, the others their events
                answers.update({(group, since): error for since in ordered})
                return
            events = [_entry_event(entry) for entry in entries]
            sequences = [protocol.sequence(event["id"]) for event in events]
            for since, whole in zip(ordered, flags, strict=True):
                if whole:
                    answers[(group, since)] = (True, events[bisect.bisect_right(sequences, protocol.sequence(since)) :])
                else:
                    answers[(group, since)] = (False, list(events))

        await asyncio.gather(*(read(group, positions) for group, positions in by_group.items()))
        return answers

    async def run_script(self, key: str, source: str, keys: list[str], args: list[Any], ordered: bool = True) -> Any:
        """Run the Lua script ``source`` on the shard that holds ``key`` (which ``keys`` must share).

        Scripts run in the order they are called unless ``ordered`` is False (reads whose
        order does not matter: they then run side by side).
        """
        return await self._get_shard(key).run(source, keys, args, ordered)

    async def read_positions(self, groups: list[str]) -> dict[str, str]:
        """Return each group's position: the id of its latest event, or "0-0" if it never had one.

        The positions asked for while one read runs share the next: one script per shard
        (and per ``_POSITIONS_AT_ONCE`` streams) for a crowd of connects, each read started
        after its callers asked, so after their ``group_add``. A replay from a position is
        exact (see ``_POSITIONS``). Raises the ``RedisError`` of a shard that holds one of
        ``groups``; callers whose groups live elsewhere are answered.
        """
        positions = {}
        for group, position in (await self._positions.get_many(groups)).items():
            if isinstance(position, RedisError):
                raise position
            positions[group] = position
        return positions

    async def _read_positions(self, groups: list[str]) -> dict[str, str | RedisError]:
        by_shard: dict[Any, list[str]] = {}
        for group in groups:
            by_shard.setdefault(self._get_shard(self._get_group_channel_name(group)), []).append(group)
        positions: dict[str, str | RedisError] = {}

        async def read(shard: _HubShard, members: list[str]) -> None:
            streams = [_history_key(self.prefix, group) for group in members]
            keys = [key for stream in streams for key in (stream, _meta_key(stream))]
            try:
                found = await shard.run(_POSITIONS, keys, [_META_TTL], ordered=False)
            except RedisError as error:  # these streams' callers get the error, the others their positions
                positions.update(dict.fromkeys(members, error))
                return
            positions.update(zip(members, (_event_id(position) for position in found), strict=True))

        await asyncio.gather(
            *(
                read(shard, members[start : start + _POSITIONS_AT_ONCE])
                for shard, members in by_shard.items()
                for start in range(0, len(members), _POSITIONS_AT_ONCE)
            )
        )
        return positions

    def resync(self) -> None:
        """Tell every local inbox channel to replay what it may have missed while Redis was away."""
        for channel, queue in list(self.channels.items()):
            if queue.inbox:
                self.deliver(channel, {"type": RESYNC_TYPE})

    def deliver(self, channel: str, message: dict) -> None:
        """Queue ``message`` for a local channel; when its queue is full, overflow an inbox, drop for others."""
        queue = self.channels.get(channel)
        if queue is None:
            return
        if not queue.inbox:
            self._put_or_drop(channel, queue, message)
            return
        if queue.overflowed:
            self.channel_layer.dropped += 1  # its consumer is closing; the client will replay
            return
        if not queue.offer(message):  # the fan-out's hot path: one call to queue it
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

    def _put_or_drop(self, channel: str, queue: ChannelQueue, message: dict) -> None:
        """Queue ``message`` for an ordinary channel, or drop it while the queue is full."""
        if queue.overflowed and queue.qsize() <= queue.maxsize // 2:
            queue.overflowed = False  # drained: a later overflow is a new episode, logged again
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            self.channel_layer.dropped += 1
            if not queue.overflowed:
                queue.overflowed = True
                logger.warning("Channel %s is full (%d messages); new messages are dropped.", channel, queue.maxsize)


class _HubShard(RedisSingleShardConnection):
    """One Redis connection pair of a loop layer: decodes each message once."""

    def __init__(self, host: Any, channel_layer: HubLoopLayer):
        super().__init__(host, channel_layer)
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._scripts: dict[str, Any] = {}
        self._script_slots = asyncio.Semaphore(_SCRIPTS_AT_ONCE)
        self._joining: dict[str, bool] = {}  # channel -> is a pattern: the next SUBSCRIBE's
        self._leaving: set[str] = set()  # the next UNSUBSCRIBE's
        self._expected: dict[str, int] = {}  # channel -> confirmations of SUBSCRIBEs sent, still to come
        self._sender: asyncio.Task[None] | None = None
        self._restoring = False  # the reader lost its connection: redis-py re-subscribes on reconnect
        self._subscribing = asyncio.Event()  # wakes the receiver once there is something to read
        # Reads block until a message comes; with health checks configured, they wake to send them.
        self._read_timeout = host.get("health_check_interval") or None

    async def subscribe(self, channel: str, pattern: bool = False) -> None:
        """Subscribe to ``channel`` (a glob-style pattern with ``pattern``) and wait until Redis confirms it.

        The subscriptions asked for in the same moment go out as one ``SUBSCRIBE`` (see
        :meth:`_send_subscriptions`); an ``UNSUBSCRIBE`` of the channel not sent yet is
        called off instead, and the subscription simply stays. After an ``UNSUBSCRIBE``
        went out, a new ``SUBSCRIBE`` is sent, and only its confirmation ends the wait.
        """
        self._leaving.discard(channel)
        if channel not in self._subscribed_to and channel not in self._joining:
            if channel not in self._confirmations:
                self._confirmations[channel] = asyncio.get_running_loop().create_future()
            self._joining[channel] = pattern
            self._start_sending()
        waiter = self._confirmations.get(channel)
        if waiter is not None:
            try:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
                # that arrives as the waiter completes, and the cancelled consumer then never ends.
                async with asyncio.timeout(_CONFIRM_TIMEOUT):
                    await asyncio.shield(waiter)
            finally:
                if self._confirmations.get(channel) is waiter and waiter.done():
                    del self._confirmations[channel]

    async def unsubscribe(self, channel: str) -> None:
        """Stop listening to ``channel``: sent with the other subscription changes of the moment."""
        if channel in self._subscribed_to or channel in self._joining:
            self._leaving.add(channel)
            self._start_sending()

    async def flush(self) -> None:
        """Drop every subscription, sent or not (their waiters fail), then close the connections as upstream does."""
        if self._sender is not None:
            self._sender.cancel()
        self._joining.clear()
        self._leaving.clear()
        self._expected.clear()
        self._fail_waiters(self._confirmations, ConnectionError("the channel layer was flushed"))
        await super().flush()

    def _start_sending(self) -> None:
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_subscriptions())

    async def _send_subscriptions(self) -> None:
        """Send what was asked for since the last send, one command per kind, until nothing waits.

        A reconnect storm asks for thousands of user groups at once: one ``SUBSCRIBE`` for
        all that came meanwhile costs one command, not one round trip each, and the
        confirmations still come one per channel (``_dispatch``). Subscriptions go before
        unsubscriptions: a channel asked for and let go in the same moment ends unsubscribed.
        One sender runs at a time, so no lock: the shard's lock orders scripts only.
        """
        while self._joining or self._leaving:
            joining, self._joining = self._joining, {}
            leaving, self._leaving = self._leaving, set()
            # Before the awaits: a subscribe meanwhile to a channel on its way out sends SUBSCRIBE again.
            self._subscribed_to.update(joining)
            self._subscribed_to -= leaving
            channels = [channel for channel, pattern in joining.items() if not pattern]
            patterns = [channel for channel, pattern in joining.items() if pattern]
            try:
                self._ensure_redis()
                self._ensure_receiver()
                for names, command in ((channels, self._pubsub.subscribe), (patterns, self._pubsub.psubscribe)):
                    if names:
                        for name in names:  # counted first: the reader may see a confirmation before the send returns
                            self._expected[name] = self._expected.get(name, 0) + 1
                        await command(*names)
                        names.clear()  # sent: a failure below does not fail them
                if leaving:
                    await self._pubsub.unsubscribe(*leaving)
            except BaseException as error:
                # What was not sent is not subscribed: the next group_add of it sends SUBSCRIBE
                # again, and its waiters learn why now. An UNSUBSCRIBE waits for the next send.
                unsent = channels + patterns
                for name in unsent:
                    if self._expected.get(name, 0) > 1:
                        self._expected[name] -= 1
                    else:
                        self._expected.pop(name, None)
                self._subscribed_to.difference_update(unsent)
                self._leaving |= leaving - self._subscribed_to - self._joining.keys()
                self._fail_waiters(
                    {name: self._confirmations.pop(name) for name in unsent if name in self._confirmations}, error
                )
                if not isinstance(error, (RedisError, OSError)):
                    raise
                logger.warning("Could not change %d Redis subscriptions: %s", len(unsent) + len(leaving), error)
                return
            if joining:
                self._subscribing.set()

    @staticmethod
    def _fail_waiters(waiters: dict[str, asyncio.Future[None]], error: BaseException) -> None:
        for waiter in waiters.values():
            if waiter.done():
                continue
            if isinstance(error, asyncio.CancelledError):
                waiter.cancel()
            else:
                waiter.set_exception(error)
                waiter.exception()  # retrieved: no "never retrieved" warning
        waiters.clear()

    async def read_history(self, stream: str, since: str) -> list:
        """Run the history script (see ``_READ_HISTORY``)."""
        return await self.run(_READ_HISTORY, [stream, _meta_key(stream)], [since], ordered=False)

    async def run(self, source: str, keys: list[str], args: list[Any], ordered: bool = True) -> Any:
        """Run the Lua script ``source`` (registered once per Redis client) and return its reply.

        ``ordered`` scripts run one after another under the shard's lock, in the order they
        were called (presence's writes, publishes). The reads on the connect path pass
        ``ordered=False``: they run side by side on the client's pool (at most
        ``_SCRIPTS_AT_ONCE``, well inside redis-py's pool of 100), so a crowd of connects
        does not wait one round trip per script.
        """
        if ordered:
            async with self._lock:
                return await self._call(source, keys, args)
        async with self._script_slots:
            return await self._call(source, keys, args)

    async def _call(self, source: str, keys: list[str], args: list[Any]) -> Any:
        self._ensure_redis()
        script = self._scripts.get(source)
        if script is None or script.registered_client is not self._redis:
            script = self._scripts[source] = self._redis.register_script(source)
        return await script(keys=keys, args=args)

    async def _do_receiving(self) -> None:
        while True:
            try:
                if self._pubsub is None or not self._pubsub.subscribed:
                    self._subscribing.clear()
                    await self._subscribing.wait()
                    continue
                self._dispatch(await self._pubsub.get_message(timeout=self._read_timeout))
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except (RedisError, OSError) as error:
                # Expected in operation (a Redis restart, a failover): a line, not a traceback.
                self._restoring = True
                logger.warning(
                    "Redis pub/sub connection lost (%s); retrying every second", error or type(error).__name__
                )
                await self._close_idle_connections()
                await asyncio.sleep(1)  # back off before reconnecting
            except Exception:
                logger.exception("Redis pub/sub reader failed; retrying every second")
                await self._close_idle_connections()
                await asyncio.sleep(1)  # back off before reconnecting

    async def _close_idle_connections(self) -> None:
        """Close the pool's idle connections: the Redis they went to is gone.

        Else the next publish fails on one: redis-py 8 (RESP3) hands out a closed connection.
        """
        if self._redis is None:
            return
        try:
            await self._redis.connection_pool.disconnect(inuse_connections=False)
        except (redis.RedisError, OSError) as error:
            logger.warning("Could not close idle Redis connections: %s", error)

    def _dispatch(self, message: dict | None) -> None:
        if message is None:
            return
        if message["type"] in ("subscribe", "psubscribe"):
            name = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            expected = self._expected.get(name, 0)
            if expected:  # the confirmation of a SUBSCRIBE of ours: the last one ends the wait
                if expected > 1:
                    self._expected[name] = expected - 1
                    return
                del self._expected[name]
                waiter = self._confirmations.pop(name, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
                return
            if self._restoring:
                # redis-py re-subscribed everything after reconnecting, channels in one command:
                # they are all back, and what was published meanwhile is only in the history.
                self._restoring = False
                logger.warning("Redis pub/sub subscriptions restored; local channels resync from history.")
                self.channel_layer.resync()
        elif message["type"] in ("message", "pmessage"):  # pmessage: to an inbox channel
            self._receive_message(message)

    async def append_and_publish(self, keys: list[str], args: list[Any]) -> str:
        """Run the append-and-publish script; return the id Redis gave the event."""
        return _event_id(await self.run(_APPEND_AND_PUBLISH, keys, args))

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
        try:
            decoded = _decode(message["data"])
        except ValueError:  # not JSON: another layer or client publishing on our prefix
            decoded = None
        if not isinstance(decoded, dict):
            layer.channel_layer.dropped += 1
            logger.warning("Dropped a message on %s that is not a JSON object written by this layer.", name)
            return
        for channel in targets:
            layer.deliver(channel, decoded)
