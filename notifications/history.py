"""Read a topic's recent events from sync code: what a page shows before its socket is live."""

from __future__ import annotations

from typing import Any

from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied
from redis.exceptions import RedisError

from notifications import groups, protocol, registry
from notifications.exceptions import HubUnavailable, InvalidTopic

__all__ = ["MAX_LIMIT", "recent"]

# The most events one call returns.
MAX_LIMIT = 100


def recent(topic: str, *, user: Any, limit: int = 50, until: str | None = None) -> list[dict[str, Any]]:
    """Return the topic's latest ``limit`` kept events at or before ``until``, oldest first, as ``event`` frames.

    Raises ``InvalidTopic`` (undeclared topic, bad ``until``), ``PermissionDenied`` (``user`` may
    not read it) and ``HubUnavailable`` (Redis cannot be read). A topic keeps what its
    ``history`` allows (``HUB_HISTORY_SIZE`` by default, for ``HUB_HISTORY_TTL`` seconds).
    """
    declared, params = registry.resolve(topic)
    if until is not None and not protocol.is_event_id(until):
        raise InvalidTopic("until must be an event id such as 1732400000000-0, not %r" % (until,))
    if not declared.authorize(user, **params):
        raise PermissionDenied("not allowed to read topic %r" % topic)
    limit = max(1, min(int(limit), MAX_LIMIT))
    try:
        messages = get_channel_layer().blocking_recent(groups.topic_group(topic), count=limit, until=until)
    except RedisError as error:
        raise HubUnavailable("could not read the history of %s: %s" % (topic, error)) from error
    return [protocol.event_frame(message) for message in messages]
