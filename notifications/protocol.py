"""The websocket protocol's frames, error codes and close codes (docs/protocol.md)."""

from __future__ import annotations

import json
import re
from typing import Any

# Error codes of "error" frames. The connection stays open after each of them.
BAD_JSON = "bad_json"
SERVER_ERROR = "server_error"
BAD_FRAME = "bad_frame"
UNKNOWN_TYPE = "unknown_type"
INVALID_TOPIC = "invalid_topic"
FORBIDDEN = "forbidden"
TOO_LARGE = "too_large"
RATE_LIMITED = "rate_limited"
TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
NOT_SUBSCRIBED = "not_subscribed"
PUBLISH_FAILED = "publish_failed"

# Close codes (4000-4999 are the application's).
CLOSE_LOGGED_OUT = 4000
CLOSE_REVOKED = 4001
CLOSE_ANONYMOUS_REFUSED = 4003
CLOSE_TOO_SLOW = 4008
CLOSE_TOO_LARGE = 4009
CLOSE_FLOOD = 4029
CLOSE_TOO_MANY_CONNECTIONS = 4030

# The ASGI extension by which a server hands a socket's events to the app's own queue
# (notifications.uvicorn_protocol offers it; the consumer uses it when it is there).
RECEIVE_INTO = "hub.receive_into"

_EVENT_ID = re.compile(r"[0-9]{1,19}-[0-9]{1,19}")
_STREAM = re.compile(r"[a-z][a-z0-9_-]*(\.[A-Za-z0-9_-]+)+")

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode(frame: dict[str, Any]) -> str:
    """Return ``frame`` as compact JSON text."""
    return _compact(frame)


def error(code: str, message: str, ref: Any = None) -> str:
    """Return an ``error`` frame."""
    return _compact({"type": "error", "code": code, "message": message, "ref": ref})


def event(message: dict[str, Any]) -> str:
    """Return the ``event`` frame that relays the channel-layer ``hub.event`` ``message``."""
    return _compact(event_frame(message))


def event_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Return, as a dict, the ``event`` frame that relays the channel-layer ``hub.event`` ``message``."""
    frame = {
        "type": "event",
        "topic": message.get("topic"),
        "event": message.get("event"),
        "data": message.get("data"),
        "id": message.get("id"),
        "ts": message.get("ts"),
    }
    if "sender" in message:
        frame["sender"] = message["sender"]
    return frame


def encode_cursor(positions: dict[str, str]) -> str:
    """Return ``positions`` (stream -> event id) as a cursor: ``stream=id`` pairs joined by commas."""
    return ",".join("%s=%s" % pair for pair in positions.items())


def decode_cursor(cursor: Any, limit: int = 100) -> dict[str, str]:
    """Return the stream -> event id pairs of a cursor; malformed pairs (and any past ``limit``) are ignored."""
    positions: dict[str, str] = {}
    if not isinstance(cursor, str):
        return positions
    for pair in cursor.split(",", limit)[:limit]:
        stream, _, event_id = pair.strip().partition("=")
        if _STREAM.fullmatch(stream) and is_event_id(event_id):
            positions[stream] = event_id
    return positions


def is_event_id(value: Any) -> bool:
    """Tell whether ``value`` looks like an event id (a Redis stream id, "<ms>-<n>")."""
    return isinstance(value, str) and _EVENT_ID.fullmatch(value) is not None


def sequence(event_id: str) -> tuple[int, int]:
    """Return an event id as a tuple that orders like the ids do."""
    ms, _, n = event_id.partition("-")
    return int(ms), int(n)
