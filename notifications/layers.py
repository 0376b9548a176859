"""The hub's channel layer: channels-redis' pub/sub layer with three additions.

1. ``group_send(group, message, history=History(...))`` appends the message to a Redis
   stream and publishes it in one Lua script, so that the event id is assigned by
   Redis and live delivery follows id order.
2. A message arriving from Redis is decoded once per process, not once per member
   channel, and the same dict goes to every local member (frames are then encoded once).
3. Each channel's queue is bounded: a channel that falls behind gets ``hub.overflow``
   instead of growing the process without limit.

Messages are JSON so that the script can splice the id into the published message.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, decode_hosts
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

OVERFLOW_TYPE = "hub.overflow"

# KEYS[1]: stream; ARGV: pub/sub channel, JSON object without id, max length, ttl.
_APPEND_AND_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], '*', 'm', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[1], '{"id":"' .. id .. '",' .. string.sub(ARGV[2], 2))
return id
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


class HubLoopLayer(RedisPubSubLoopLayer):
    """The per-event-loop half of :class:`HubChannelLayer`."""

    def __init__(self, hosts: Any = None, **kwargs: Any):
        super().__init__(hosts, **kwargs)
        self._shards = [_HubShard(host, self) for host in decode_hosts(hosts)]

    async def _subscribe_to_channel(self, channel: str) -> None:
        self.channels[channel] = asyncio.Queue(maxsize=self.channel_layer.queue_size)
        await self._get_shard(channel).subscribe(channel)

    async def group_send(self, group: str, message: dict, history: History | None = None) -> str | None:
        """Send ``message`` to ``group``; with ``history``, also keep it and return its id."""
        if history is None:
            await super().group_send(group, message)
            return None
        group_channel = self._get_group_channel_name(group)
        payload = json.dumps(message, separators=(",", ":"))
        stream = f"{self.prefix}:history:{group}"
        return await self._get_shard(group_channel).append_and_publish(
            stream, group_channel, payload, history
        )

    def overflow(self, channel: str) -> None:
        """Replace a full channel's backlog with one ``hub.overflow`` message."""
        queue = self.channels[channel]
        dropped = queue.qsize()
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait({"type": OVERFLOW_TYPE, "dropped": dropped})
        self.channel_layer.dropped += dropped
        logger.warning("Channel %s fell %d messages behind; it is told to close.", channel, dropped)


class _HubShard(RedisSingleShardConnection):
    """One Redis connection pair of a loop layer: decodes each message once."""

    _script: Any = None

    async def append_and_publish(self, stream: str, channel: str, payload: str, history: History) -> str:
        """Run the append-and-publish script; return the id Redis gave the event."""
        async with self._lock:
            self._ensure_redis()
            if self._script is None or self._script.registered_client is not self._redis:
                self._script = self._redis.register_script(_APPEND_AND_PUBLISH)
            event_id = await self._script(keys=[stream], args=[channel, payload, history.size, history.ttl])
        return event_id.decode() if isinstance(event_id, bytes) else event_id

    def _receive_message(self, message: dict | None) -> None:
        if message is None:
            return
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
            queue = layer.channels.get(channel)
            if queue is None:
                continue
            try:
                queue.put_nowait(decoded)
            except asyncio.QueueFull:
                layer.overflow(channel)
