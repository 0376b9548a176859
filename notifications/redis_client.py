"""The hub's Redis, as the channel layer's configuration names it: clients and the key prefix.

Everything the hub keeps in Redis (history, metrics, dashboards) lives on the default
channel layer's first host, under its ``prefix``: one place to configure, in
``CHANNEL_LAYERS``, for the host project too.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import redis
import redis.asyncio as aioredis
from channels_redis.utils import decode_hosts
from django.conf import settings

__all__ = ["async_client", "client", "prefix"]


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


def async_client() -> aioredis.Redis:
    """Return a new asyncio client of the hub's Redis, for the calling event loop; close it when done."""
    host = dict(_first_host())
    if "master_name" in host:
        sentinel = aioredis.Sentinel(host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None))
        return sentinel.master_for(host.pop("master_name"), **host)
    if "address" in host:
        return aioredis.Redis.from_url(host.pop("address"), **host)
    return aioredis.Redis(**host)


def _config() -> dict[str, Any]:
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    return dict(layer.get("CONFIG") or {})


def _first_host() -> dict[str, Any]:
    return decode_hosts(_config().get("hosts"))[0]


@functools.cache
def _client_for(host_json: str) -> redis.Redis:
    host = json.loads(host_json)
    if "master_name" in host:
        sentinel = redis.Sentinel(host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None))
        return sentinel.master_for(host.pop("master_name"), **host)
    if "address" in host:
        return redis.Redis.from_url(host.pop("address"), **host)
    return redis.Redis(**host)
