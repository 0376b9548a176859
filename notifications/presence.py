"""Presence: who is subscribed to a topic declared with ``presence=True``, across tabs and server processes.

A member is a user: every connection of a user subscribed to the topic (tabs, sockets,
on any server process) makes one member, who joins with the first and leaves with the
last. Visitors are counted, not listed. A server process that dies without a goodbye
loses its members within ``HUB_PRESENCE_TIMEOUT`` seconds. Protocol: docs/protocol.md,
"Presence". From views, tasks and the shell::

    from notifications import presence

    presence.members("chat.lobby")   # [{"id": 7, "username": "alice"}, ...]
    presence.count("chat.lobby")     # 1
    presence.visitors("chat.lobby")  # 3

The session (``notifications.session``) calls :func:`subscribed`, :func:`unsubscribed`,
:func:`left` and :func:`relay`; the counting and the Redis work live in
``presence_tracker`` and ``presence_store``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from notifications import presence_store, protocol, redis_client, registry
from notifications.exceptions import InvalidTopic
from notifications.presence_tracker import VISITOR, tracker

if TYPE_CHECKING:
    from notifications.session import HubSession

__all__ = ["count", "members", "online_users", "visitors"]

MESSAGE_TYPE = "hub.presence"  # the channel-layer message of a change (published by presence_store's scripts)


class Attendance:
    """One session's presence: the topics it is counted in, and those it relays, with their (epoch, seq)."""

    __slots__ = ("counted", "watching", "member")

    def __init__(self) -> None:
        self.counted: set[str] = set()
        self.watching: dict[str, tuple[str, int]] = {}
        self.member = ""  # the user's member JSON, encoded once


# --- the public face: sync, for views, tasks and the shell ---


def members(topic: str) -> list[dict[str, Any]]:
    """Return the users subscribed to ``topic`` now, each ``{"id", "username"}``, by username.

    Raises InvalidTopic unless ``topic`` is a declared presence topic; RedisError if Redis is down.
    """
    _check(topic)
    found = [json.loads(text) for text in presence_store.read_sync(topic).entries]
    return sorted(found, key=lambda member: (str(member.get("username", "")), str(member["id"])))


def count(topic: str) -> int:
    """Return how many users (members, not visitors) are subscribed to ``topic`` now; raise like :func:`members`."""
    _check(topic)
    return presence_store.read_sync(topic, "count").members


def visitors(topic: str) -> int:
    """Return how many visitors' connections are subscribed to ``topic`` now; raise like :func:`members`."""
    _check(topic)
    return presence_store.read_sync(topic, "count").visitors


def online_users() -> int:
    """Return how many distinct signed-in users have a connection open, on any server process.

    One ``PUBSUB CHANNELS`` read: each connected user's own group has a Redis channel while
    any process holds a connection of that user. Counts the channel layer's first host.
    """
    return len(redis_client.client().pubsub_channels(presence_store.online_pattern()))


# --- what the session calls ---


async def subscribed(session: HubSession, topic: str, watch: bool) -> None:
    """Count the session in presence topic ``topic`` (once); with ``watch``, send it the snapshot and changes after."""
    attendance = session.attendance
    if attendance is None:
        attendance = session.attendance = Attendance()  # only sessions that use presence pay for it
    if topic not in attendance.counted:
        attendance.counted.add(topic)
        tracker().add(topic, _uid(session), _member(session, attendance))
    if watch:
        await _send_snapshot(session, topic)


def unsubscribed(session: HubSession, topic: str) -> None:
    """Stop counting the session in ``topic`` (unsubscribed, or no longer allowed to read it)."""
    attendance = session.attendance
    if attendance is None:
        return
    attendance.watching.pop(topic, None)
    if topic in attendance.counted:
        attendance.counted.discard(topic)
        tracker().remove(topic, _uid(session))


def left(session: HubSession) -> None:
    """Stop counting the session anywhere: its connection closed. Safe to call again."""
    if session.attendance is not None:
        for topic in list(session.attendance.counted):
            unsubscribed(session, topic)


async def relay(session: HubSession, message: dict[str, Any]) -> None:
    """Send the ``join``, ``leave`` and ``visitors`` frames of a ``hub.presence`` message the session has not seen."""
    tracker().note(message)
    attendance = session.attendance
    topic = message.get("topic", "")
    state = attendance.watching.get(topic) if attendance is not None else None
    if attendance is None or state is None:
        return
    epoch, seq = state
    if message.get("epoch") != epoch or message.get("first", 0) > seq + 1:
        # Changes went by unseen (Redis started afresh, or a relay was lost): start again from a snapshot.
        await _send_snapshot(session, topic)
        return
    attendance.watching[topic] = (epoch, max(seq, message.get("seq", 0)))
    for change_seq, text in _frames(message):
        if change_seq > seq:
            await _send(session, text)


# --- helpers ---


def _check(topic: str) -> None:
    declared, _params = registry.resolve(topic)
    if not declared.presence:
        raise InvalidTopic("topic %r is not declared with presence=True" % topic)


def _uid(session: HubSession) -> str:
    return VISITOR if session.user_id is None else str(session.user_id)


def _member(session: HubSession, attendance: Attendance) -> str:
    """Return the member JSON of the session's user, from the user object it already holds (no query)."""
    if not attendance.member and session.user_id is not None:
        attendance.member = protocol.encode({"id": session.user_id, "username": session.user.get_username()})
    return attendance.member


async def _send_snapshot(session: HubSession, topic: str) -> None:
    """Send ``presence`` frames (``page`` of ``pages``) and relay the changes after them."""
    mirror = await tracker().snapshot(topic)
    attendance = session.attendance
    if attendance is None or topic not in attendance.counted:
        return  # unsubscribed meanwhile
    pages = mirror.pages(topic)
    attendance.watching[topic] = (mirror.epoch, mirror.seq)
    for text in pages:
        await _send(session, text)


def _frames(message: dict[str, Any]) -> list[tuple[int, str]]:
    """Return ``(seq, frame)`` for each change of a ``hub.presence`` message, encoded once per process."""
    frames: list[tuple[int, str]] | None = message.get("_frames")
    if frames is None:
        topic = message.get("topic")
        frames = message["_frames"] = [
            (seq, _change_frame(topic, kind, body)) for seq, kind, body in message["changes"]
        ]
    return frames


def _change_frame(topic: Any, kind: str, body: Any) -> str:
    if kind == "visitors":
        return protocol.encode({"type": "visitors", "topic": topic, "count": body})
    return protocol.encode({"type": kind, "topic": topic, "member": body})


async def _send(session: HubSession, text: str) -> None:
    if not session.closed:
        await session.transport.send(text)
