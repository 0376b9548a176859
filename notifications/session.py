"""One client's hub session, whatever carries it: identity, streams, authorization, replay, limits.

The websocket consumer (``notifications.consumer``) and the Server-Sent Events view
(``notifications.sse``) are thin adapters over :class:`HubSession`: they hand it the
client's text frames and the channel layer's messages, and it answers through the
:class:`Transport` they give it. The rules live here once, so the transports cannot
drift apart. Protocol: docs/protocol.md.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any, Protocol, cast

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from redis.exceptions import RedisError

from notifications import groups, limits, metrics, presence, protocol, publish, registry, tokens
from notifications.conf import hub_settings
from notifications.exceptions import EventTooLarge, FrameRefused, HubUnavailable, InvalidTopic, PublishError
from notifications.user_groups import group_ids, known_group_ids

__all__ = ["HubSession", "Transport"]

logger = logging.getLogger(__name__)

FRAME_TYPE = "hub.frame"  # a client frame relayed by the channel layer (the SSE POST)
BATCH_FRAMES = 100  # event frames in one batched send at most ...
BATCH_CHARS = 65_536  # ... and about this many characters (one frame may pass it)
_ZERO = "0-0"


class Transport(Protocol):
    """What a session needs from the connection that carries it."""

    wants_cursor: bool  # give event and hello frames the cursor of every stream (SSE ``id:`` lines)
    batches: bool  # takes several event frames in one send, one per line (docs/protocol.md, "Batches")

    async def send(self, text: str, cursor: str | None = None) -> None:
        """Send one encoded frame (with the connection's cursor, when ``wants_cursor``)."""

    async def close(self, code: int) -> None:
        """Close the connection with ``code``."""


class HubSession:
    """A user's (or a visitor's) multiplexed hub connection over one transport."""

    def __init__(
        self,
        layer: Any,
        channel_name: str,
        user: Any,
        transport: Transport,
        session_mark: str | None,
        token_issued: float | None = None,
        address: str | None = None,
    ):
        self.layer = layer
        self.channel_name = channel_name
        self.user = user
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        self.transport = transport
        self.session_mark = session_mark
        self.token_issued = token_issued  # a token connection: when its token was minted
        self.address = address  # the client's address, for the limits that span its connections
        self.auth_hash: str | None = None  # the user's session auth hash at connect: it changes with the password
        self.connection_id = uuid.uuid4().hex
        self.closed = False
        # stream -> (sequence, id) of the last event sent on it: never send one at or below.
        self.last_sent: dict[str, tuple[tuple[int, int], str]] = {}
        # stream -> the position reported for it (hello, subscribed): where a resync starts if nothing was sent.
        self.positions: dict[str, str] = {}
        self.standing: dict[str, str] = {}  # stream -> group joined on connect
        self.topics: dict[str, str] = {}  # subscribed topic -> group
        self.authorized: set[str] = set()
        self.tokens = float(hub_settings.HUB_RATE_BURST)
        self.last_frame = time.monotonic()
        self.refused_in_a_row = 0
        self.counted = False
        self.attendance: presence.Attendance | None = None  # presence hook: made at its first presence topic

    # --- opening and closing ---

    async def open(self, resume: dict[str, str], topics: Sequence[str] = ()) -> None:
        """Join the standing streams (and ``topics``), send ``hello``, replay from ``resume`` or the positions.

        ``resume`` maps streams to the positions the client holds (the cursor it sent).
        """
        self.standing = await self._standing_streams()
        positions = await self._join(self.standing, replaying=resume.keys())
        metrics.start()
        metrics.connected(+1)
        self.counted = True
        # Connect hooks read their state after the groups are joined and before hello: a
        # change made after the client saw hello reaches it live, not twice.
        snapshot = [message for hook in registry.connect_hooks() for message in await _run_hook(hook, self.user)]
        hello = {
            "type": "hello",
            "connection": self.connection_id,
            "user": self.user_id,
            "heartbeat": hub_settings.HUB_HEARTBEAT,
            "positions": positions,
        }
        await self.send_frame(hello, cursor=True)
        # The snapshot right after hello: what the replays bring next happened after it was read
        # (or is already in it, and hooks' state events are idempotent), never before it.
        for message in snapshot:
            await self.hub_event(message)
        for stream, group in self.standing.items():
            held = resume.get(stream)
            if held is not None:
                await self._replay(stream, group, held)
        for name in topics:
            await self.frame_subscribe({"type": "subscribe", "topic": name, "since": resume.get(name)}, None)

    async def leave(self) -> None:
        """Leave every group and stop counting this session; safe to call again."""
        presence.left(self)  # presence hook: its members leave with their last connection
        topics, self.topics = self.topics, {}
        standing, self.standing = self.standing, {}
        for topic in topics:
            metrics.unsubscribed(topic)
        for group in list(standing.values()) + list(topics.values()):
            try:
                await self.layer.group_discard(group, self.channel_name)
            except RedisError as error:
                logger.warning("Could not leave group %s: %s", group, error)
        if self.counted:
            self.counted = False
            metrics.connected(-1)

    async def close(self, code: int) -> None:
        """Close the transport once; nothing is sent after."""
        if not self.closed:
            self.closed = True
            await self.transport.close(code)

    # --- what the client sends ---

    async def receive_text(self, text: str | None) -> None:
        """Check one client frame (size, rate, JSON, shape) and hand it to its handler."""
        if text is None:
            await self.refuse(protocol.BAD_FRAME, "binary frames are not supported; send JSON text")
            return
        limit = hub_settings.HUB_MAX_FRAME_BYTES
        if len(text) * 4 > limit and len(text.encode()) > limit:
            await self.refuse(protocol.TOO_LARGE, "frame exceeds %d bytes" % limit)
            await self.close(protocol.CLOSE_TOO_LARGE)
            return
        if not self._take_token():
            await self.refuse(protocol.RATE_LIMITED, "too many frames; slow down")
            if self.refused_in_a_row > hub_settings.HUB_RATE_BURST:
                await self.close(protocol.CLOSE_FLOOD)
            return
        try:
            frame = _read_json(text)
        except (ValueError, RecursionError):
            await self.refuse(
                protocol.BAD_JSON, "frame is not valid JSON (NaN, Infinity and overflowing numbers neither)"
            )
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.refuse(protocol.BAD_FRAME, 'a frame is a JSON object with a string "type"')
            return
        problem = _problem(frame)
        if problem is not None:
            await self.refuse(protocol.BAD_FRAME, problem)
            return
        ref = frame.get("ref")
        handler = _CLIENT_FRAMES.get(frame["type"])
        if handler is None:
            app_handler = registry.frame_handler(frame["type"])
            if app_handler is None:
                await self.refuse(protocol.UNKNOWN_TYPE, "unknown frame type %r" % frame["type"], ref)
                return
            self.refused_in_a_row = 0
            await self._app_frame(app_handler, frame, ref)
            return
        if frame["type"] in _NEEDS_TOPIC and not isinstance(frame.get("topic"), str):
            await self.refuse(protocol.BAD_FRAME, '%s needs a "topic" string' % frame["type"], ref)
            return
        self.refused_in_a_row = 0
        await handler(self, frame, ref)

    async def frame_subscribe(self, frame: dict, ref: Any) -> None:
        """Join a topic's group after checking the name, the cap and the topic's authorization."""
        name = frame["topic"]
        since = frame.get("since")
        if since is not None and not protocol.is_event_id(since):
            await self.refuse(protocol.BAD_FRAME, '"since" must be an event id such as "1732400000000-0"', ref)
            return
        if frame.get("presence") not in (None, True, False):  # presence hook
            await self.refuse(protocol.BAD_FRAME, '"presence" must be true or false', ref)
            return
        if name not in self.topics and len(self.topics) >= hub_settings.HUB_MAX_SUBSCRIPTIONS:
            await self.refuse(
                protocol.TOO_MANY_SUBSCRIPTIONS,
                "at most %d subscriptions per connection" % hub_settings.HUB_MAX_SUBSCRIPTIONS,
                ref,
            )
            return
        topic = await self._authorized(name, ref)
        if topic is None:
            return
        if name in self.topics:
            position = self._position(name)
            await self.send_frame({"type": "subscribed", "topic": name, "position": position, "ref": ref}, cursor=True)
            if topic.presence:  # presence hook: counted once; a snapshot when asked
                await presence.subscribed(self, name, frame.get("presence") is True)
            if since is not None:
                await self._replay(name, self.topics[name], since)
            return
        group = groups.topic_group(name)
        replaying = (name,) if since is not None or topic.retain else ()
        position = (await self._join({name: group}, replaying))[name]
        self.topics[name] = group
        metrics.subscribed(name)
        await self.send_frame({"type": "subscribed", "topic": name, "position": position, "ref": ref}, cursor=True)
        if topic.presence:  # presence hook: counted from now on; the snapshot when asked
            await presence.subscribed(self, name, frame.get("presence") is True)
        if since is not None:
            await self._replay(name, group, since)
        elif topic.retain:
            await self._replay_retained(name, group, position)

    async def frame_unsubscribe(self, frame: dict, ref: Any) -> None:
        """Leave a topic's group."""
        name = frame["topic"]
        group = self.topics.pop(name, None)
        if group is None:
            await self.refuse(protocol.NOT_SUBSCRIBED, "not subscribed to %r" % (name,), ref)
            return
        presence.unsubscribed(self, name)  # presence hook
        await self.layer.group_discard(group, self.channel_name)
        metrics.unsubscribed(name)
        self.last_sent.pop(name, None)
        self.positions.pop(name, None)
        await self.send_frame({"type": "unsubscribed", "topic": name, "ref": ref})

    async def frame_ping(self, frame: dict, ref: Any) -> None:
        """Answer ``pong``."""
        await self.send_frame({"type": "pong", "ref": ref})

    async def frame_publish(self, frame: dict, ref: Any) -> None:
        """Publish an event to a topic that allows client publishing."""
        name, event = frame["topic"], frame.get("event")
        if not groups.is_valid_event_name(event):
            await self.refuse(protocol.BAD_FRAME, '"event" must be 1-64 letters, digits or _.:-', ref)
            return
        if await self._authorized(name, ref, publishing=True) is None:
            return
        who = "user.%s" % self.user_id if self.user_id is not None else "address.%s" % self.address
        if not await limits.may_publish(self.layer, who):
            message = "at most %s publishes a second (%d at once) per user" % (
                hub_settings.HUB_PUBLISH_RATE,
                hub_settings.HUB_PUBLISH_BURST,
            )
            await self.refuse(protocol.RATE_LIMITED, message, ref)
            return
        sender = {"id": self.user_id, "username": self.user.get_username()} if self.user_id else None
        try:
            event_id = await publish.ato_topic(name, event, frame.get("data"), sender=sender)
        except PublishError as error:
            code = protocol.TOO_LARGE if isinstance(error, EventTooLarge) else protocol.BAD_FRAME
            await self.refuse(code, str(error), ref)
            return
        except HubUnavailable:
            logger.exception("Publishing a client event to %s failed", name)
            await self.refuse(protocol.PUBLISH_FAILED, "the hub could not publish; try again", ref)
            return
        await self.send_frame({"type": "published", "topic": name, "id": event_id, "ref": ref})

    # --- what the channel layer delivers ---

    async def handle(self, message: dict) -> None:
        """Handle one channel-layer message addressed to this session."""
        handler = _LAYER_MESSAGES.get(message.get("type", ""))
        if handler is None:
            logger.warning("Ignored a message of unknown type %r (a raw group_send?)", message.get("type"))
            return
        await handler(self, message)

    async def hub_event(self, message: dict) -> None:
        """Relay an event unless already sent; the frame is encoded once per process."""
        frame = self._event_text(message)
        if frame is not None:
            await self.transport.send(frame, self.cursor() if self.transport.wants_cursor else None)

    async def hub_events(self, messages: Iterable[dict]) -> None:
        """Relay events in order; a transport that ``batches`` gets up to ``BATCH_FRAMES`` per send, one per line."""
        if not self.transport.batches:
            for message in messages:
                await self.hub_event(message)
            return
        lines: list[str] = []
        size = 0
        for message in messages:
            frame = self._event_text(message)
            if frame is None:
                continue
            lines.append(frame)
            size += len(frame)
            if len(lines) >= BATCH_FRAMES or size >= BATCH_CHARS:
                await self.transport.send("\n".join(lines))
                lines, size = [], 0
        if lines:
            await self.transport.send("\n".join(lines))

    def _event_text(self, message: dict) -> str | None:
        """Return the ``event`` frame relaying ``message`` (counted as delivered), or None if already sent."""
        event_id = message.get("id")
        if event_id is not None:
            sequence = message.get("_sequence")
            if sequence is None:
                sequence = message["_sequence"] = protocol.sequence(event_id)
            stream = message["topic"]
            last = self.last_sent.get(stream)
            if last is not None and sequence <= last[0]:
                return None  # already replayed from history
            self.last_sent[stream] = (sequence, event_id)
        frame: str | None = message.get("_frame")
        first = frame is None
        if frame is None:
            frame = message["_frame"] = protocol.event(message)
        metrics.delivered(message, first)
        return frame

    async def hub_resync(self, message: dict) -> None:
        """Redis was unreachable: replay each stream from its position (the last event sent, or the one reported)."""
        for stream, group in {**self.standing, **self.topics}.items():
            await self._replay(stream, group, self._position(stream))

    async def hub_logout(self, message: dict) -> None:
        """Close this session if it belongs to the browser session that logged out."""
        if self.session_mark is not None and message.get("session") == self.session_mark:
            await self.close(protocol.CLOSE_LOGGED_OUT)

    async def hub_rights(self, message: dict) -> None:
        """The user's rights changed: close if its credentials died, else drop what it may no longer read."""
        if self.user_id is None:
            return
        verdict = await database_sync_to_async(self._reread_rights)()
        if verdict is None:
            await self.close(protocol.CLOSE_REVOKED)
            return
        self.user, standing, allowed = verdict
        for stream in [stream for stream in self.standing if stream not in standing]:
            await self._drop(stream, self.standing.pop(stream))
        for stream in [name for name in self.topics if name not in allowed]:
            metrics.unsubscribed(stream)
            presence.unsubscribed(self, stream)  # presence hook: live rights lost, so is presence
            await self._drop(stream, self.topics.pop(stream))
        self.authorized = set(allowed)
        joining = {stream: group for stream, group in standing.items() if stream not in self.standing}
        if joining:
            await self._join(joining)
            self.standing.update(joining)

    async def hub_presence(self, message: dict) -> None:
        """A presence change of a topic (``notifications.presence``): relay it if this session watches it."""
        await presence.relay(self, message)

    async def hub_overflow(self, message: dict) -> None:
        """Close a session that fell too far behind; the client reconnects and catches up."""
        metrics.slow_client_closed()
        await self.close(protocol.CLOSE_TOO_SLOW)

    async def hub_frame(self, message: dict) -> None:
        """A client frame relayed by another transport endpoint (an SSE POST): handle it as if received."""
        if message.get("user") == self.user_id:
            await self.receive_text(message.get("text"))

    # --- helpers ---

    async def send_frame(self, frame: dict[str, Any], cursor: bool = False) -> None:
        """Encode and send ``frame``; ``cursor`` gives it the streams' cursor where the transport wants one."""
        if not self.closed:
            await self.transport.send(
                protocol.encode(frame), self.cursor() if cursor and self.transport.wants_cursor else None
            )

    async def refuse(self, code: str, message: str, ref: Any = None) -> None:
        """Answer an ``error`` frame with ``code``."""
        if code == protocol.RATE_LIMITED:
            self.refused_in_a_row += 1
        if not self.closed:
            await self.transport.send(protocol.error(code, message, ref))

    def cursor(self) -> str:
        """Return the position of every stream this session serves, as a cursor (docs/protocol.md)."""
        return protocol.encode_cursor({stream: self._position(stream) for stream in {**self.standing, **self.topics}})

    async def _drop(self, stream: str, group: str) -> None:
        """Leave a stream the user may no longer read and say so (``unsubscribed``, reason ``forbidden``)."""
        await self.layer.group_discard(group, self.channel_name)
        self.last_sent.pop(stream, None)
        self.positions.pop(stream, None)
        await self.send_frame({"type": "unsubscribed", "topic": stream, "reason": "forbidden", "ref": None})

    def _reread_rights(self) -> tuple[Any, dict[str, str], set[str]] | None:
        """Read the user again: None if its credentials died, else it, its standing streams and allowed topics."""
        user = get_user_model()._default_manager.filter(pk=cast(int, self.user_id)).first()
        if user is None or not user.is_active or user.get_session_auth_hash() != self.auth_hash:
            return None
        if self.token_issued is not None and self.token_issued <= tokens.revoked_since(user.pk):
            return None
        allowed = set()
        for name in self.topics:
            topic, params = registry.resolve(name)
            if topic.authorize(user, **params):
                allowed.add(name)
        return user, _standing_streams_of(user), allowed

    def _position(self, stream: str) -> str:
        """Return the stream's position: the last event sent on it, else the position reported for it."""
        last = self.last_sent.get(stream)
        reported = self.positions.get(stream, _ZERO)
        if last is None or protocol.sequence(reported) > last[0]:
            return reported
        return last[1]

    async def _join(self, streams: dict[str, str], replaying: Collection[str] = ()) -> dict[str, str]:
        """Join each stream's group, then read its position; return stream -> position.

        Joined first, so every event after the position arrives live: none falls between
        the two, and no history read is needed. One that arrived live at or before the
        position is older than what the client is told it holds, so it is not sent, unless
        the stream is ``replaying`` (from where the client is, or its retained event).
        """
        for group in streams.values():
            await self.layer.group_add(group, self.channel_name)
        found = await self.layer.read_positions(list(streams.values()))
        positions = {}
        for stream, group in streams.items():
            position = positions[stream] = self.positions[stream] = found[group]
            if stream not in replaying:
                self._advance(stream, position)
        return positions

    def _advance(self, stream: str, event_id: str) -> None:
        sequence = protocol.sequence(event_id)
        last = self.last_sent.get(stream)
        if last is None or sequence > last[0]:
            self.last_sent[stream] = (sequence, event_id)

    async def _replay(self, stream: str, group: str, since: str | None) -> None:
        """Send the events of ``group`` after ``since`` (or its latest one); ``reset`` first if some are gone."""
        try:
            complete, events = await self.layer.read_history(group, since)
        except RedisError as error:
            await self._history_unreadable(stream, error)
            return
        if not complete:
            self.last_sent.pop(stream, None)
            await self.send_frame({"type": "reset", "topic": stream})
        elif since is not None:
            self._advance(stream, since)
        await self._send_replayed(events)

    async def _replay_retained(self, stream: str, group: str, position: str) -> None:
        """Send a retained topic's latest event; if it came after ``position``, every event kept after that.

        Events published between the position's read and this one reached the connection
        live, but are at or below the latest event: sending them from the history, in
        order, keeps them. When the history no longer holds them all (a topic that keeps
        one event), the latest state is what a retained topic owes: no ``reset``.
        """
        try:
            _complete, events = await self.layer.read_history(group, None)
            if events and protocol.sequence(events[-1]["id"]) > protocol.sequence(position):
                complete, after = await self.layer.read_history(group, position)
                if complete:
                    events = after
        except RedisError as error:
            await self._history_unreadable(stream, error)
            return
        await self._send_replayed(events)

    async def _send_replayed(self, events: list[dict]) -> None:
        """Relay events read from history (counted as replayed, not as publish-to-delivery latency)."""
        for event in events:
            event["_replayed"] = True
        await self.hub_events(events)

    async def _history_unreadable(self, stream: str, error: RedisError) -> None:
        """Say ``reset`` for a stream whose history could not be read."""
        logger.warning("Could not read the history of %s: %s", stream, error)
        await self.send_frame({"type": "reset", "topic": stream})

    async def _authorized(self, name: Any, ref: Any, publishing: bool = False) -> registry.Topic | None:
        """Return the declared topic if this session may use it; else answer an error and return None."""
        try:
            topic, params = registry.resolve(name)
        except InvalidTopic as error:
            await self.refuse(protocol.INVALID_TOPIC, str(error), ref)
            return None
        if publishing and not topic.client_publish:
            await self.refuse(protocol.FORBIDDEN, "topic %r does not accept client publishing" % name, ref)
            return None
        if name in self.authorized:
            return topic
        if not await database_sync_to_async(topic.authorize)(self.user, **params):
            await self.refuse(protocol.FORBIDDEN, "not allowed to use topic %r" % name, ref)
            return None
        self.authorized.add(name)
        return topic

    async def _app_frame(self, handler: Any, frame: dict, ref: Any) -> None:
        """Run an app's handler for its own frame type (docs/protocol.md, "App frames")."""
        try:
            result = await database_sync_to_async(handler)(self.user, frame)
        except FrameRefused as refusal:
            await self.refuse(refusal.code, refusal.message, ref)
            return
        except Exception:
            logger.exception("The handler of %r frames failed", frame["type"])
            await self.refuse(protocol.SERVER_ERROR, "the hub could not handle this frame", ref)
            return
        await self.send_frame({"type": "ok", "ref": ref, "result": result})

    def _take_token(self) -> bool:
        now = time.monotonic()
        elapsed, self.last_frame = now - self.last_frame, now
        self.tokens = min(hub_settings.HUB_RATE_BURST, self.tokens + elapsed * hub_settings.HUB_RATE_LIMIT)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def _standing_streams(self) -> dict[str, str]:
        """Return stream -> group of what this session joins without subscribing; note the auth hash.

        Only a user whose groups were not loaded with it (not by the auth middleware) costs a query.
        """
        if self.user_id is None:
            return _standing_streams_of(None)
        self.auth_hash = self.user.get_session_auth_hash()
        if known_group_ids(self.user) is not None:
            return _standing_streams_of(self.user)
        return await database_sync_to_async(_standing_streams_of)(self.user)


async def _run_hook(hook: registry.ConnectHook, user: Any) -> Iterable[dict]:
    """Return a connect hook's messages: a coroutine function is awaited, any other runs in a thread."""
    if inspect.iscoroutinefunction(hook):
        return cast(Iterable[dict], await hook(user))
    return cast(Iterable[dict], await database_sync_to_async(hook)(user))


def _standing_streams_of(user: Any) -> dict[str, str]:
    """Return stream -> group of the streams a connection of ``user`` (None: a visitor) joins on connect."""
    audiences = [groups.EVERYONE]
    streams = {}
    if user is not None:
        streams[groups.user_stream(user.pk)] = groups.user_group(user.pk)
        audiences.append(groups.AUTHENTICATED)
        if user.is_staff:
            audiences.append(groups.STAFF)
        audiences += [groups.django_group_audience(pk) for pk in group_ids(user)]
    for audience in audiences:
        streams[groups.broadcast_stream(audience)] = groups.audience_group(audience)
    return streams


MAX_DEPTH = 32  # nesting levels a client frame may have (docs/protocol.md)
MAX_REF_LENGTH = 128


def _finite(number: str) -> float:
    value = float(number)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range: %s" % number[:20])
    return value


def _no_constant(name: str) -> None:
    raise ValueError("%s is not JSON" % name)


_read_json = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant).decode


def _problem(frame: dict[str, Any]) -> str | None:
    """Return why a parsed frame cannot be answered (too deep, unencodable text, a bad ref), or None."""
    ref = frame.get("ref")
    if not (ref is None or (isinstance(ref, str) and len(ref) <= MAX_REF_LENGTH) or type(ref) is int):
        return '"ref" must be a string of up to %d characters or an integer' % MAX_REF_LENGTH
    pending: list[tuple[Any, int]] = [(frame, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return "frame is nested deeper than %d levels" % MAX_DEPTH
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                return "frame holds a lone surrogate (\\ud800-\\udfff), which is not text"
    return None


# One table for every session (not a dict of bound methods each): channel-layer message type -> handler.
_LAYER_MESSAGES: dict[str, Callable[[HubSession, dict], Awaitable[None]]] = {
    groups.EVENT_TYPE: HubSession.hub_event,
    "hub.resync": HubSession.hub_resync,
    groups.LOGOUT_TYPE: HubSession.hub_logout,
    groups.RIGHTS_TYPE: HubSession.hub_rights,
    "hub.overflow": HubSession.hub_overflow,
    FRAME_TYPE: HubSession.hub_frame,
    presence.MESSAGE_TYPE: HubSession.hub_presence,  # presence hook
}
_NEEDS_TOPIC = frozenset({"subscribe", "unsubscribe", "publish"})
_CLIENT_FRAMES = {
    "subscribe": HubSession.frame_subscribe,
    "unsubscribe": HubSession.frame_unsubscribe,
    "ping": HubSession.frame_ping,
    "publish": HubSession.frame_publish,
}
