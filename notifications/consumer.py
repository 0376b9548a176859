"""The websocket consumer: validates client frames, authorizes subscribes, relays events.

Protocol: docs/protocol.md. Payloads are built by producers (``notifications.publish``);
this consumer only checks, subscribes and forwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected as _AutobahnDisconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from notifications import groups, metrics, protocol, publish, registry
from notifications.conf import hub_settings
from notifications.exceptions import FrameRefused, InvalidTopic, PublishError

logger = logging.getLogger(__name__)


class HubConsumer(AsyncWebsocketConsumer):
    """One multiplexed hub connection: a user's own events, broadcasts and subscribed topics."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Serve one socket from a single queue: layer messages and websocket events, in order.

        Channels' loop (``await_many_dispatch``) creates a task and an ``asyncio.wait`` per
        message; here the websocket events are pumped into the channel's own queue, so a
        relay costs one ``queue.get()``.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name, queue = await self.channel_layer.new_inbox()
        self.base_send = send
        pump = asyncio.get_running_loop().create_task(_pump(receive, queue))
        try:
            while True:
                await self.dispatch(await queue.get())
        except StopConsumer:
            pass
        finally:
            # Whatever ended the loop (a disconnect, an error), nothing stays subscribed.
            pump.cancel()
            await self._leave_everything()
            try:
                await self.channel_layer.close_inbox(self.channel_name)
            except RedisError as error:
                logger.warning("Could not unsubscribe channel %s: %s", self.channel_name, error)

    async def dispatch(self, message: dict) -> None:
        """Call the handler for ``message["type"]``, without Channels' per-message DB hop.

        ``AsyncConsumer.dispatch`` runs ``aclose_old_connections()`` (a thread hop) before
        every handler; relays never touch the database, and the handlers that do go
        through ``database_sync_to_async``, which closes stale connections itself.
        """
        if self.closing and message["type"] != "websocket.disconnect":
            return  # closed by the hub: only the disconnect still matters
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            logger.warning("Ignored a message of unknown type %r (a raw group_send?)", message.get("type"))
            return
        await handler(message)

    closing = False  # set once the hub closes the socket: later frames are not sent

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        """Send a frame; if the socket is closing or the client has gone, drop it."""
        if self.closing:
            return
        try:
            await super().send(text_data, bytes_data, close)
        except _SOCKET_GONE:
            logger.debug("Dropped a frame for a socket that is already closed")

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Close the socket once; frames queued behind the close are not sent."""
        if self.closing:
            return
        self.closing = True
        try:
            await super().close(code, reason)
        except _SOCKET_GONE:
            logger.debug("The client closed first")

    async def connect(self) -> None:
        """Refuse visitors if HUB_ALLOW_ANONYMOUS is off; else join the standing groups and say hello."""
        self.user = self.scope.get("user")
        self.user_id = self.user.pk if self.user is not None and self.user.is_authenticated else None
        if self.user_id is None and not hub_settings.HUB_ALLOW_ANONYMOUS:
            # Accepted first: a handshake refusal reaches browsers only as close code 1006.
            await self.accept()
            await self.close(protocol.CLOSE_ANONYMOUS_REFUSED)
            return
        self.connection_id = uuid.uuid4().hex
        # stream -> (sequence, id) of the last event sent on it; never send one at or below.
        self.last_sent: dict[str, tuple[tuple[int, int], str]] = {}
        self.topics: dict[str, str] = {}
        self.authorized: set[str] = set()
        self.tokens = float(hub_settings.HUB_RATE_BURST)
        self.last_frame = time.monotonic()
        self.refused_in_a_row = 0
        self.session_mark = _session_mark(self.scope)
        self.standing = await self._standing_streams()
        self.groups = list(self.standing.values())
        # stream -> when this connection joined it (ms): a resync replays from there.
        self.joined_ms = dict.fromkeys(self.standing, int(time.time() * 1000))
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        metrics.start()
        metrics.connected(+1)
        self.counted = True
        # Connect hooks read their state now, after the groups are joined and before hello:
        # whatever changes once the client has seen hello reaches it live, not twice.
        snapshot = [
            message for hook in registry.connect_hooks() for message in await database_sync_to_async(hook)(self.user)
        ]
        hello = {
            "type": "hello",
            "connection": self.connection_id,
            "user": self.user_id,
            "heartbeat": hub_settings.HUB_HEARTBEAT,
        }
        await self.send(text_data=protocol.encode(hello))
        since = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("since")
        if self.user_id is not None and since and protocol.is_event_id(since[0]):
            await self._replay(groups.user_stream(self.user_id), groups.user_group(self.user_id), since[0])
        for message in snapshot:
            await self.hub_event(message)

    async def disconnect(self, code: int) -> None:
        """Leave every group (standing and topics) and stop counting this connection."""
        await self._leave_everything()

    async def _leave_everything(self) -> None:
        """Leave every group and uncount the connection; safe to call again."""
        topics, self.topics = getattr(self, "topics", {}), {}
        standing, self.groups = list(getattr(self, "groups", None) or []), []
        for topic in topics:
            metrics.unsubscribed(topic)
        for group in standing + list(topics.values()):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except RedisError as error:
                logger.warning("Could not leave group %s: %s", group, error)
        if getattr(self, "counted", False):
            self.counted = False
            metrics.connected(-1)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Check one client frame (size, rate, JSON, shape) and hand it to its ``frame_*`` handler."""
        if text_data is None:
            await self._refuse(protocol.BAD_FRAME, "binary frames are not supported; send JSON text")
            return
        if (
            len(text_data) * 4 > hub_settings.HUB_MAX_FRAME_BYTES
            and len(text_data.encode()) > hub_settings.HUB_MAX_FRAME_BYTES
        ):
            await self._refuse(protocol.TOO_LARGE, "frame exceeds %d bytes" % hub_settings.HUB_MAX_FRAME_BYTES)
            await self.close(protocol.CLOSE_TOO_LARGE)
            return
        if not self._take_token():
            await self._refuse(protocol.RATE_LIMITED, "too many frames; slow down")
            if self.refused_in_a_row > hub_settings.HUB_RATE_BURST:
                await self.close(protocol.CLOSE_FLOOD)
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self._refuse(protocol.BAD_JSON, "frame is not valid JSON")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._refuse(protocol.BAD_FRAME, 'a frame is a JSON object with a string "type"')
            return
        handler = _CLIENT_FRAMES.get(frame["type"])
        if handler is None:
            app_handler = registry.frame_handler(frame["type"])
            if app_handler is None:
                await self._refuse(protocol.UNKNOWN_TYPE, "unknown frame type %r" % frame["type"], frame.get("ref"))
                return
            self.refused_in_a_row = 0
            await self._app_frame(app_handler, frame, frame.get("ref"))
            return
        if frame["type"] in _NEEDS_TOPIC and not isinstance(frame.get("topic"), str):
            await self._refuse(protocol.BAD_FRAME, '%s needs a "topic" string' % frame["type"], frame.get("ref"))
            return
        self.refused_in_a_row = 0
        await handler(self, frame, frame.get("ref"))

    async def frame_subscribe(self, frame: dict, ref: Any) -> None:
        """Join a topic's group after checking the name, the cap and the topic's authorization."""
        name = frame["topic"]
        since = frame.get("since")
        if since is not None and not protocol.is_event_id(since):
            await self._refuse(protocol.BAD_FRAME, '"since" must be an event id such as "1732400000000-0"', ref)
            return
        if name not in self.topics and len(self.topics) >= hub_settings.HUB_MAX_SUBSCRIPTIONS:
            await self._refuse(
                protocol.TOO_MANY_SUBSCRIPTIONS,
                "at most %d subscriptions per connection" % hub_settings.HUB_MAX_SUBSCRIPTIONS,
                ref,
            )
            return
        topic = await self._authorized(name, ref)
        if topic is None:
            return
        if name not in self.topics:
            self.topics[name] = groups.topic_group(name)
            # Joined before the history is read, so no event falls between the two.
            await self.channel_layer.group_add(self.topics[name], self.channel_name)
            self.joined_ms[name] = int(time.time() * 1000)
            metrics.subscribed(name)
        await self.send(text_data=protocol.encode({"type": "subscribed", "topic": name, "ref": ref}))
        if since is not None:
            await self._replay(name, self.topics[name], since)
        elif topic.retain:
            await self._replay(name, self.topics[name], None)

    async def frame_unsubscribe(self, frame: dict, ref: Any) -> None:
        """Leave a topic's group."""
        name = frame["topic"]
        group = self.topics.pop(name, None)
        if group is None:
            await self._refuse(protocol.NOT_SUBSCRIBED, "not subscribed to %r" % (name,), ref)
            return
        await self.channel_layer.group_discard(group, self.channel_name)
        metrics.unsubscribed(name)
        self.last_sent.pop(name, None)
        self.joined_ms.pop(name, None)
        await self.send(text_data=protocol.encode({"type": "unsubscribed", "topic": name, "ref": ref}))

    async def frame_ping(self, frame: dict, ref: Any) -> None:
        """Answer ``pong``."""
        await self.send(text_data=protocol.encode({"type": "pong", "ref": ref}))

    async def frame_publish(self, frame: dict, ref: Any) -> None:
        """Publish an event to a topic that allows client publishing."""
        name, event = frame["topic"], frame.get("event")
        if not groups.is_valid_event_name(event):
            await self._refuse(protocol.BAD_FRAME, '"event" must be 1-64 letters, digits or _.:-', ref)
            return
        if await self._authorized(name, ref, publishing=True) is None:
            return
        sender = None
        if self.user_id and self.user is not None:
            sender = {"id": self.user_id, "username": self.user.get_username()}
        try:
            event_id = await publish.ato_topic(name, event, frame.get("data"), sender=sender)
        except PublishError as error:
            code = protocol.TOO_LARGE if "HUB_MAX_EVENT_BYTES" in str(error) else protocol.BAD_FRAME
            await self._refuse(code, str(error), ref)
            return
        except OSError:
            logger.exception("Publishing a client event to %s failed", name)
            await self._refuse(protocol.PUBLISH_FAILED, "the hub could not publish; try again", ref)
            return
        await self.send(text_data=protocol.encode({"type": "published", "topic": name, "id": event_id, "ref": ref}))

    async def hub_event(self, message: dict) -> None:
        """Relay an event unless already sent; the frame is encoded once per process."""
        event_id = message.get("id")
        if event_id is not None:
            sequence = message.get("_sequence")
            if sequence is None:
                sequence = message["_sequence"] = protocol.sequence(event_id)
            stream = message["topic"]
            last = self.last_sent.get(stream)
            if last is not None and sequence <= last[0]:
                return  # already replayed from history
            self.last_sent[stream] = (sequence, event_id)
        frame = message.get("_frame")
        first = frame is None
        if first:
            frame = message["_frame"] = protocol.event(message)
        await self.send(text_data=frame)
        metrics.delivered(message, first)

    async def hub_resync(self, message: dict) -> None:
        """Redis was unreachable: replay each stream from the last event sent on it."""
        for stream, group in {**self.standing, **self.topics}.items():
            last = self.last_sent.get(stream)
            if last is not None:
                await self._replay(stream, group, last[1])
            else:
                await self._replay(stream, group, f"({self.joined_ms.get(stream, 0)}-0")

    async def hub_logout(self, message: dict) -> None:
        """Close this connection if it belongs to the session that logged out."""
        if self.session_mark is not None and message.get("session") == self.session_mark:
            await self.close(protocol.CLOSE_LOGGED_OUT)

    async def hub_overflow(self, message: dict) -> None:
        """Close a connection that fell too far behind; the client reconnects and catches up."""
        await self.close(protocol.CLOSE_TOO_SLOW)

    async def _app_frame(self, handler: Any, frame: dict, ref: Any) -> None:
        """Run an app's handler for its own frame type (docs/protocol.md, "App frames")."""
        try:
            result = await database_sync_to_async(handler)(self.user, frame)
        except FrameRefused as refusal:
            await self._refuse(refusal.code, refusal.message, ref)
            return
        except Exception:
            logger.exception("The handler of %r frames failed", frame["type"])
            await self._refuse(protocol.SERVER_ERROR, "the hub could not handle this frame", ref)
            return
        await self.send(text_data=protocol.encode({"type": "ok", "ref": ref, "result": result}))

    async def _replay(self, stream: str, group: str, since: str | None) -> None:
        """Send the events of ``group`` after ``since`` (or its latest one); ``reset`` first if some are gone."""
        try:
            complete, events = await self.channel_layer.read_history(group, since)
        except RedisError as error:
            logger.warning("Could not read the history of %s: %s", stream, error)
            await self.send(text_data=protocol.encode({"type": "reset", "topic": stream}))
            return
        if not complete:
            self.last_sent.pop(stream, None)
            await self.send(text_data=protocol.encode({"type": "reset", "topic": stream}))
        elif since is not None and not since.startswith("("):
            sequence, last = protocol.sequence(since), self.last_sent.get(stream)
            if last is None or sequence > last[0]:
                self.last_sent[stream] = (sequence, since)
        for event in events:
            await self.hub_event(event)

    async def _authorized(self, name: Any, ref: Any, publishing: bool = False) -> registry.Topic | None:
        """Return the declared topic if this connection may use it; else answer an error and return None."""
        try:
            topic, params = registry.resolve(name)
        except InvalidTopic as error:
            await self._refuse(protocol.INVALID_TOPIC, str(error), ref)
            return None
        if publishing and not topic.client_publish:
            await self._refuse(protocol.FORBIDDEN, "topic %r does not accept client publishing" % name, ref)
            return None
        if name in self.authorized:
            return topic
        if not await database_sync_to_async(topic.authorize)(self.user, **params):
            await self._refuse(protocol.FORBIDDEN, "not allowed to use topic %r" % name, ref)
            return None
        self.authorized.add(name)
        return topic

    async def _refuse(self, code: str, message: str, ref: Any = None) -> None:
        if code == protocol.RATE_LIMITED:
            self.refused_in_a_row += 1
        await self.send(text_data=protocol.error(code, message, ref))

    def _take_token(self) -> bool:
        now = time.monotonic()
        elapsed, self.last_frame = now - self.last_frame, now
        self.tokens = min(hub_settings.HUB_RATE_BURST, self.tokens + elapsed * hub_settings.HUB_RATE_LIMIT)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    @database_sync_to_async
    def _standing_streams(self) -> dict[str, str]:
        """Return stream -> group of what this connection joins without subscribing."""
        audiences = [groups.EVERYONE]
        streams = {}
        if self.user_id is not None and self.user is not None:
            streams[groups.user_stream(self.user_id)] = groups.user_group(self.user_id)
            audiences.append(groups.AUTHENTICATED)
            if self.user.is_staff:
                audiences.append(groups.STAFF)
            audiences += [groups.django_group_audience(pk) for pk in self.user.groups.values_list("pk", flat=True)]
        for audience in audiences:
            streams[groups.broadcast_stream(audience)] = groups.audience_group(audience)
        return streams


# What servers raise when the app sends on a socket the client just closed: Uvicorn an
# OSError (ClientDisconnected), Daphne autobahn's Disconnected.
_SOCKET_GONE: tuple[type[BaseException], ...] = (OSError, _AutobahnDisconnected)


async def _pump(receive: Any, queue: Any) -> None:
    """Move websocket events into the consumer's queue until the socket is gone."""
    while True:
        message = await receive()
        queue.put_beside(message)
        if message["type"] == "websocket.disconnect":
            return


_NEEDS_TOPIC = frozenset({"subscribe", "unsubscribe", "publish"})
_CLIENT_FRAMES = {
    "subscribe": HubConsumer.frame_subscribe,
    "unsubscribe": HubConsumer.frame_unsubscribe,
    "ping": HubConsumer.frame_ping,
    "publish": HubConsumer.frame_publish,
}


def _session_mark(scope: dict) -> str | None:
    if scope.get("hub_token"):
        return None
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    return groups.session_mark(key) if key else None
