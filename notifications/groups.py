"""The one source of truth for group names, stream names and message types.

Group names are public: a raw ``channel_layer.group_send(group, message)`` with a
message shaped like :func:`event_message` reaches browsers too (docs/publishing.md).
Channels allows only ``[A-Za-z0-9._-]`` in group names, fewer than 100 characters.
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeGuard

__all__ = [
    "AUDIENCES",
    "EVENT_TYPE",
    "LOGOUT_TYPE",
    "RIGHTS_TYPE",
    "audience_group",
    "django_group_audience",
    "event_message",
    "is_valid_event_name",
    "logout_message",
    "session_mark",
    "topic_group",
    "user_group",
    "user_stream",
]

# Channel-layer message types: "hub.event" is dispatched to HubConsumer.hub_event.
EVENT_TYPE = "hub.event"
LOGOUT_TYPE = "hub.logout"
RIGHTS_TYPE = "hub.rights"  # a user's rights changed: its connections re-check what they may read

# Built-in broadcast audiences; a Django group is the audience "group.<pk>".
EVERYONE = "everyone"
AUTHENTICATED = "authenticated"
STAFF = "staff"
AUDIENCES = (EVERYONE, AUTHENTICATED, STAFF)

_EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def user_group(user_id: int | str) -> str:
    """Return the group every connection of user ``user_id`` joins on connect."""
    return f"hub.user.{int(user_id)}"


def user_stream(user_id: int | str) -> str:
    """Return the stream name (the ``topic`` of event frames) of a user's own events."""
    return f"user.{int(user_id)}"


def topic_group(topic: str) -> str:
    """Return the group that subscribers of ``topic`` join (``topic`` must be validated)."""
    return f"hub.topic.{topic}"


def audience_group(audience: str) -> str:
    """Return the group of a broadcast audience: everyone, authenticated, staff or group.<pk>."""
    return f"hub.broadcast.{audience}"


def django_group_audience(group_id: int) -> str:
    """Return the broadcast audience name of the Django group with primary key ``group_id``."""
    return f"group.{int(group_id)}"


def broadcast_stream(audience: str) -> str:
    """Return the stream name (the ``topic`` of event frames) of broadcasts to ``audience``."""
    return f"broadcast.{audience}"


def is_valid_event_name(event: object) -> TypeGuard[str]:
    """Tell whether ``event`` is a usable event name (1-64 characters, no spaces)."""
    return isinstance(event, str) and bool(_EVENT_NAME.match(event))


# The sender of events published by the server (views, tasks): no "sender" key at all.
SERVER = object()


def event_message(*, stream: str, event: str, data: object, ts: int, sender: object = SERVER) -> dict:
    """Return the channel-layer message that the consumer relays as an ``event`` frame.

    ``sender`` is the publishing client's ``{"id", "username"}`` or None for a visitor;
    events published by the server leave it out.
    """
    message = {"type": EVENT_TYPE, "topic": stream, "event": event, "data": data, "ts": ts}
    if sender is not SERVER:
        message["sender"] = sender
    return message


def session_mark(session_key: str) -> str:
    """Return the digest that names a session in ``hub.logout`` messages (never the key itself)."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:24]


def logout_message(session_key: str) -> dict:
    """Return the message that closes the connections opened by session ``session_key``."""
    return {"type": LOGOUT_TYPE, "session": session_mark(session_key)}
