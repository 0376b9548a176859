"""The publishing API that views, tasks and the shell call.

Each function validates at the call (raising :class:`PublishError` or
:class:`InvalidTopic` before anything is sent), then ``group_send``s one
``hub.event`` message (see ``notifications.groups.event_message``). The sync
functions send after the surrounding transaction commits, never on rollback, in the
calling thread over the process's one synchronous Redis pool
(``HubChannelLayer.blocking_group_send``): one round trip, no event loop to hop to.
"""

from __future__ import annotations

import json
import time
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from redis.exceptions import RedisError

from notifications import groups, registry
from notifications.conf import hub_settings
from notifications.exceptions import EventTooLarge, HubUnavailable, PublishError
from notifications.layers import History

__all__ = [
    "abroadcast",
    "ato_topic",
    "ato_user",
    "broadcast",
    "close_session",
    "recheck_audience",
    "recheck_rights",
    "to_topic",
    "to_user",
]


def to_user(user: Any, event: str, data: Any = None, *, receipt: str | None = None) -> None:
    """Send ``event`` to every open connection of ``user`` (a user or a user id), after commit."""
    _on_commit(*_user_args(user, event, data, receipt))


def to_topic(topic: str, event: str, data: Any = None, *, receipt: str | None = None) -> None:
    """Send ``event`` to the subscribers of ``topic``, after commit; raise InvalidTopic if undeclared."""
    _on_commit(*_topic_args(topic, event, data, groups.SERVER, receipt))


def broadcast(event: str, data: Any = None, *, audience: Any = groups.EVERYONE, receipt: str | None = None) -> None:
    """Send ``event`` to an audience: "everyone", "authenticated", "staff" or a Django Group, after commit."""
    _on_commit(*_broadcast_args(event, data, audience, receipt))


async def ato_user(user: Any, event: str, data: Any = None, *, receipt: str | None = None) -> str:
    """Send ``event`` to ``user`` now, from async code; return the event id."""
    return await _send(*_user_args(user, event, data, receipt))


async def ato_topic(
    topic: str, event: str, data: Any = None, *, sender: Any = groups.SERVER, receipt: str | None = None
) -> str:
    """Send ``event`` to ``topic``'s subscribers now, from async code; return the event id."""
    return await _send(*_topic_args(topic, event, data, sender, receipt))


async def abroadcast(
    event: str, data: Any = None, *, audience: Any = groups.EVERYONE, receipt: str | None = None
) -> str:
    """Send ``event`` to ``audience`` now, from async code; return the event id."""
    return await _send(*_broadcast_args(event, data, audience, receipt))


def close_session(user: Any, session_key: str) -> None:
    """Close the hub connections that the browser session ``session_key`` of ``user`` opened."""
    _send_now(groups.user_group(getattr(user, "pk", user)), groups.logout_message(session_key), None)


def recheck_rights(user: Any) -> None:
    """Make every open connection of ``user`` re-read what it may read, now (the hub's signals call it).

    Each one drops the streams its user may no longer read (``unsubscribed`` with
    ``"reason": "forbidden"``), or closes with 4001 if its credentials are no longer good.
    """
    _send_now(groups.user_group(getattr(user, "pk", user)), {"type": groups.RIGHTS_TYPE}, None)


def recheck_audience(audience: str) -> None:
    """Make every open connection in a broadcast audience (say ``group.<pk>``) re-read its rights, now."""
    _send_now(groups.audience_group(audience), {"type": groups.RIGHTS_TYPE}, None)


def _user_args(user: Any, event: str, data: Any, receipt: str | None) -> tuple[str, dict, History]:
    user_id = getattr(user, "pk", user)
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise PublishError("user must be a user or an integer id, not %r" % (user,))
    message = _message(groups.user_stream(user_id), event, data, groups.SERVER, receipt)
    return groups.user_group(user_id), message, _default_history()


def _topic_args(topic: str, event: str, data: Any, sender: Any, receipt: str | None) -> tuple[str, dict, History]:
    declared, _params = registry.resolve(topic)
    default = _default_history()
    size = hub_settings.HUB_TOPIC_HISTORY.get(declared.pattern, declared.history) or default.size
    history = History(size=size, ttl=default.ttl)
    return groups.topic_group(topic), _message(topic, event, data, sender, receipt), history


def _broadcast_args(event: str, data: Any, audience: Any, receipt: str | None) -> tuple[str, dict, History]:
    name = _audience_name(audience)
    message = _message(groups.broadcast_stream(name), event, data, groups.SERVER, receipt)
    return groups.audience_group(name), message, _default_history()


def _audience_name(audience: Any) -> str:
    from django.contrib.auth.models import Group

    if isinstance(audience, Group):
        return groups.django_group_audience(audience.pk)
    if audience in groups.AUDIENCES:
        return audience
    if isinstance(audience, str) and audience.startswith("group.") and audience[6:].isdigit():
        return audience
    raise PublishError(
        "audience must be one of %s, a Django Group or 'group.<pk>', not %r" % (", ".join(groups.AUDIENCES), audience)
    )


def _message(stream: str, event: str, data: Any, sender: Any, receipt: str | None) -> dict:
    if not groups.is_valid_event_name(event):
        raise PublishError("event must be 1-64 letters, digits or _.:- , not %r" % (event,))
    try:
        size = len(json.dumps(data, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as error:
        raise PublishError("event data is not JSON-serialisable: %s" % error) from error
    if size > hub_settings.HUB_MAX_EVENT_BYTES:
        raise EventTooLarge(
            "event data is %d bytes; HUB_MAX_EVENT_BYTES allows %d" % (size, hub_settings.HUB_MAX_EVENT_BYTES)
        )
    ts = int(time.time() * 1000)
    message = groups.event_message(stream=stream, event=event, data=data, ts=ts, sender=sender)
    if receipt is not None:
        # Server processes count the connections reached under this key (metrics.receipts).
        message["receipt"] = str(receipt)
    return message


def _default_history() -> History:
    return History(size=hub_settings.HUB_HISTORY_SIZE, ttl=hub_settings.HUB_HISTORY_TTL)


def _on_commit(group: str, message: dict, history: History) -> None:
    if transaction.get_connection().in_atomic_block:
        # A failure after commit cannot undo the commit: it is logged, not raised.
        transaction.on_commit(lambda: _send_now(group, message, history), robust=True)
    else:
        _send_now(group, message, history)


def _send_now(group: str, message: dict, history: History | None) -> None:
    try:
        get_channel_layer().blocking_group_send(group, message, history)
    except RedisError as error:
        raise HubUnavailable("could not publish to %s: %s" % (group, error)) from error


async def _send(group: str, message: dict, history: History | None) -> str:
    try:
        return await get_channel_layer().group_send(group, message, history=history)
    except RedisError as error:
        raise HubUnavailable("could not publish to %s: %s" % (group, error)) from error
