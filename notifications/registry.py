"""Declared topics: a name pattern, an authorization check, a history policy and presence.

Topics are declared in code, in any installed app's ``topics.py`` (found at start-up)::

    @topic("chat.{room}", client_publish=True, history=100, presence=True)
    def can_chat(user, room):
        return True

A name that matches no declared pattern is refused.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from notifications.exceptions import InvalidTopic

__all__ = ["Topic", "client_frame", "connect_hooks", "declared", "frame_handler", "on_connect", "resolve", "topic"]

Authorize = Callable[..., bool]
# hook(user) -> the messages a new connection gets; a coroutine function is awaited.
ConnectHook = Callable[[Any], Iterable[dict] | Awaitable[Iterable[dict]]]

# Topic names: dot-separated segments of letters, digits, "_" and "-". The group name
# "hub.topic.<name>" must stay under Channels' limit of 100 characters.
MAX_TOPIC_LENGTH = 80
_TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_-]*(\.[A-Za-z0-9_-]+)+$")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_PARAM = r"[A-Za-z0-9_-]{1,64}"


@dataclass(frozen=True)
class Topic:
    """A declared topic pattern such as ``chat.{room}``."""

    pattern: str
    authorize: Authorize
    client_publish: bool = False
    history: int | None = None
    retain: bool = False
    presence: bool = False  # track who is subscribed (notifications.presence)
    regex: re.Pattern[str] = field(compare=False, repr=False, default=re.compile(""))

    def match(self, name: str) -> dict[str, str] | None:
        """Return the pattern's parameters if ``name`` matches it, else None."""
        found = self.regex.fullmatch(name)
        return found.groupdict() if found else None


_topics: dict[str, Topic] = {}
_connect_hooks: list[ConnectHook] = []
_frame_handlers: dict[str, Callable[[Any, dict], dict]] = {}
_FRAME_TYPE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")


def topic(
    pattern: str,
    *,
    client_publish: bool = False,
    history: int | None = None,
    retain: bool = False,
    presence: bool = False,
) -> Callable[[Authorize], Authorize]:
    """Declare a topic; the decorated ``authorize(user, **params) -> bool`` runs at subscribe.

    ``history`` overrides HUB_HISTORY_SIZE; ``retain`` sends a new subscriber the latest event first;
    ``presence`` tracks who is subscribed (``notifications.presence``, docs/protocol.md "Presence").
    """

    def register(authorize: Authorize) -> Authorize:
        if pattern in _topics:
            raise ImproperlyConfigured("Topic %r is declared twice." % pattern)
        _topics[pattern] = Topic(
            pattern, authorize, client_publish, history, retain, presence=presence, regex=_compile(pattern)
        )
        return authorize

    return register


def on_connect(hook: ConnectHook) -> ConnectHook:
    """Register ``hook(user)``: the ``hub.event`` messages it returns are sent to each new connection.

    It runs in a thread (it may query the database) once the connection has joined its
    groups and before ``hello``; its events are sent right after ``hello``, before any replay,
    so a change made after the client saw ``hello`` reaches it after them (replayed or live).
    A coroutine function is awaited on the event loop instead, and must not block: a hook
    that keeps its state in memory costs a connect no thread hop. Build messages with
    ``notifications.groups.event_message``.
    """
    _connect_hooks.append(hook)
    return hook


def client_frame(frame_type: str) -> Callable[[Callable[[Any, dict], dict]], Callable[[Any, dict], dict]]:
    """Declare ``handler(user, frame) -> dict`` for client frames of ``frame_type`` ("app.verb").

    It runs in a thread; its dict is sent back as ``{"type": "ok", "ref": ..., "result": ...}``.
    It raises ``notifications.exceptions.FrameRefused(code, message)`` to answer an error frame.
    """
    if not _FRAME_TYPE.fullmatch(frame_type):
        raise ImproperlyConfigured("Client frame type %r must look like 'app.verb'." % frame_type)

    def register(handler: Callable[[Any, dict], dict]) -> Callable[[Any, dict], dict]:
        if frame_type in _frame_handlers:
            raise ImproperlyConfigured("Client frame %r is declared twice." % frame_type)
        _frame_handlers[frame_type] = handler
        return handler

    return register


def frame_handler(frame_type: str) -> Callable[[Any, dict], dict] | None:
    """Return the handler declared for client frames of ``frame_type``, if any."""
    return _frame_handlers.get(frame_type)


def connect_hooks() -> list[ConnectHook]:
    """Return the registered connect hooks, in registration order."""
    return list(_connect_hooks)


def declared() -> list[Topic]:
    """Return every declared topic, in declaration order."""
    return list(_topics.values())


def resolve(name: Any) -> tuple[Topic, dict[str, str]]:
    """Return the topic that ``name`` matches and its parameters; raise InvalidTopic if none."""
    if not isinstance(name, str) or len(name) > MAX_TOPIC_LENGTH or not _TOPIC_NAME.fullmatch(name):
        raise InvalidTopic("%r is not a valid topic name" % (name,))
    for candidate in _topics.values():
        params = candidate.match(name)
        if params is not None:
            return candidate, params
    raise InvalidTopic("no topic %r is declared" % name)


def _compile(pattern: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(pattern)
    # split() alternates literal text and placeholder names.
    regex = "".join(f"(?P<{part}>{_PARAM})" if index % 2 else re.escape(part) for index, part in enumerate(parts))
    return re.compile(f"^{regex}$")
