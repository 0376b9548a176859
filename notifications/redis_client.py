"""The hub's Redis, as the channel layer's configuration names it: clients and the key prefix.

Everything the hub keeps in Redis (history, metrics, dashboards) lives on the default
channel layer's first host, under its ``prefix``: one place to configure, in
``CHANNEL_LAYERS``, for the host project too.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import redis
import redis.asyncio as aioredis
from channels_redis.utils import decode_hosts
from django.conf import settings

from notifications.layers import client_for_host

__all__ = ["async_client", "check", "client", "prefix"]


def prefix() -> str:
    """Return the prefix of the hub's keys and channels: the layer's ``prefix`` ("asgi" if unset)."""
    return _config().get("prefix", "asgi")


def client(timeout: float | None = None) -> redis.Redis:
    """Return this process's client of the hub's Redis (a pool; safe across threads and forks).

    With ``timeout``, a separate client whose connects and replies give up after that many seconds.
    """
    host = _first_host()
    if timeout is not None:
        host = {"socket_connect_timeout": timeout, "socket_timeout": timeout, **host}
    return _client_for(json.dumps(host, sort_keys=True, default=str))


def check(timeout: float = 2.0) -> None:
    """Raise HubUnavailable, naming the Redis (password hidden), unless the hub's Redis answers in time.

    Management commands call it first, so that they fail with a line saying what to do
    instead of claiming to have pushed what nothing could receive.
    """
    from notifications.exceptions import HubUnavailable

    try:
        client(timeout=timeout).ping()
    except (redis.RedisError, OSError) as error:
        raise HubUnavailable(
            "the hub's Redis (%s) does not answer: %s. Start the hub (make run / manage.py runhub) or point "
            "REDIS_URL (CHANNEL_LAYERS) at a running Redis."
            % (_described(), str(error).rstrip(".") or type(error).__name__)
        ) from error


def _described() -> str:
    host = dict(_first_host())
    if "address" in host:
        address = str(host["address"])
        return re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", address)
    if "master_name" in host:
        return "Sentinel master %s" % host["master_name"]
    return "%s:%s" % (host.get("host", "localhost"), host.get("port", 6379))


def async_client() -> aioredis.Redis:
    """Return a new asyncio client of the hub's Redis, for the calling event loop; close it when done."""
    client: aioredis.Redis = client_for_host(_first_host(), asyncio=True)
    return client


def _config() -> dict[str, Any]:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    return dict(layer.get("CONFIG") or {})


def _first_host() -> dict[str, Any]:
    return decode_hosts(_config().get("hosts"))[0]


@functools.cache
def _client_for(host_json: str) -> redis.Redis:
    client: redis.Redis = client_for_host(json.loads(host_json))
    return client
