"""The process's synchronous Redis client, for sync code that reads the hub's own keys."""

from __future__ import annotations

import functools

import redis
from django.conf import settings

__all__ = ["client"]


@functools.cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def client() -> redis.Redis:
    """Return this process's client of REDIS_URL (a connection pool; safe across threads and forks)."""
    return _client_for(settings.REDIS_URL)
