"""Where dashboards live in Redis: one client per process and the name of every key.

Keys, under the channel layer's ``prefix``: ``dashboard:<name>:state`` (hash: field -> JSON value),
``:dirty`` (set of metric names to recompute), ``:pending`` (token of the scheduled flush),
``:lock`` (held by the flush that is publishing), ``:points`` (list of the chart's points),
and ``dashboard:hub:previous`` (the hub figures of the previous sample).
"""

from __future__ import annotations

from notifications.redis_client import client, prefix

__all__ = ["client", "key"]


def key(name: str, part: str) -> str:
    """Return the Redis key of ``part`` ("state", "dirty", ...) of dashboard ``name``."""
    return f"{prefix()}:dashboard:{name}:{part}"
