"""Limits that span a client's connections: connections per address, publishes per user or address.

Connections are counted per server process (``HUB_MAX_CONNECTIONS_PER_ADDRESS`` each; a
proxy in front can cap the total, docs/security.md). Client publishes share one token
bucket per user (per address for visitors) in Redis, across every socket and process:
``HUB_PUBLISH_RATE`` a second, ``HUB_PUBLISH_BURST`` at once.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from notifications import redis_client
from notifications.conf import hub_settings

__all__ = ["connection_opened", "connection_closed", "may_publish"]

_open: Counter[str] = Counter()

# KEYS[1]: the bucket; ARGV: rate per second, burst, now (ms). Returns 1 if a token was taken.
_TAKE_TOKEN = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return taken
"""


def connection_opened(address: str | None) -> bool:
    """Count a connection from ``address``; False (and not counted) if the address is at its cap."""
    cap = hub_settings.HUB_MAX_CONNECTIONS_PER_ADDRESS
    if address is None or not cap:
        return True
    if _open[address] >= cap:
        return False
    _open[address] += 1
    return True


def connection_closed(address: str | None) -> None:
    """Uncount a connection that :func:`connection_opened` counted."""
    if address is None or not hub_settings.HUB_MAX_CONNECTIONS_PER_ADDRESS:
        return
    _open[address] -= 1
    if _open[address] <= 0:
        del _open[address]


async def may_publish(layer: Any, who: str) -> bool:
    """Take a publish token from ``who``'s bucket ("user.<id>" or "address.<ip>"); False if it is empty."""
    rate, burst = float(hub_settings.HUB_PUBLISH_RATE), float(hub_settings.HUB_PUBLISH_BURST)
    key = "%s:limits:publish:%s" % (redis_client.prefix(), who)
    return bool(await layer.run_script(key, _TAKE_TOKEN, [key], [rate, burst, int(time.time() * 1000)]))
