"""Presence in Redis: the keys of a topic's presence, the scripts that change and read them.

Each presence topic keeps, on the Redis shard that carries its group's pub/sub channel
(so that a script can publish the change it makes, in order, to the topic's subscribers):

- ``<prefix>:presence:<topic>:s`` hash: ``epoch`` (new whenever the state starts afresh, say
  after a Redis restart), ``seq`` (one more per change), ``visitors`` (their connections);
- ``...:n`` hash: user id -> the user's connections to the topic, over every process;
- ``...:m`` hash: user id -> the member object ``{"id", "username"}`` as JSON;
- ``...:p`` sorted set: server process -> when its entries expire unless it beats again;
- ``...:p:<process>`` hash: user id (``-`` for visitors) -> that process's connections;
- ``...:l`` list: the last ``LOG_SIZE`` changes, newest first, for cheap snapshot catch-up.

Every script first sweeps the processes whose entry expired (a SIGKILLed server): their
connections are taken away, and a user left with none leaves. A change is published on
the group's channel as one ``hub.presence`` message per script run. Keys live
``KEY_TTL`` seconds after the last write (heartbeats write every few seconds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from channels.layers import get_channel_layer

from notifications import groups, redis_client

__all__ = ["LOG_SIZE", "Reading", "apply", "read", "read_sync"]

LOG_SIZE = 1000  # changes kept for snapshot catch-up; a cache further behind reads the whole state
KEY_TTL = 86_400

# KEYS[1]: the topic's base key. ARGV[1]: the group's pub/sub channel; ARGV[2]: the topic as a
# JSON string; ARGV[3]: log size; ARGV[4]: key ttl. Time is Redis' own (TIME), so the server
# processes' clocks do not matter.
_PRELUDE = """
local base, channel, topic_json = KEYS[1], ARGV[1], ARGV[2]
local log_size, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local meta, totals, members, procs, log = base .. ':s', base .. ':n', base .. ':m', base .. ':p', base .. ':l'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', meta, 'epoch', 'visitors', 'seq')
local epoch, visitors, last = state[1], tonumber(state[2]), tonumber(state[3])
if not epoch then
  epoch, visitors, last = clock[1] .. '.' .. clock[2], 0, 0
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0, 'visitors', 0)
  redis.call('EXPIRE', meta, ttl)
end
local visitors_before = visitors
local changes = {}

local function record(kind, body)
  last = redis.call('HINCRBY', meta, 'seq', 1)
  local entry = '[' .. last .. ',"' .. kind .. '",' .. body .. ']'
  changes[#changes + 1] = entry
  redis.call('LPUSH', log, entry)
end

-- Add delta connections of uid ('-': a visitor); a user's first one joins, its last one leaves.
local function count(uid, delta, member)
  if delta == 0 then return end
  if uid == '-' then
    visitors = redis.call('HINCRBY', meta, 'visitors', delta)
    if visitors < 0 then
      visitors = 0
      redis.call('HSET', meta, 'visitors', 0)
    end
    return
  end
  local total = redis.call('HINCRBY', totals, uid, delta)
  local before = total - delta
  if total <= 0 then
    redis.call('HDEL', totals, uid)
    if before > 0 then
      local known = redis.call('HGET', members, uid) or cjson.encode({id = uid})
      redis.call('HDEL', members, uid)
      record('leave', known)
    end
  elseif before <= 0 then
    if member == nil or member == '' then member = cjson.encode({id = uid}) end
    redis.call('HSET', members, uid, member)
    record('join', member)
  end
end

-- Take away the connections of every process whose entry expired: it died without saying goodbye.
local function sweep()
  local dead = redis.call('ZRANGEBYSCORE', procs, '-inf', '(' .. now)
  for _, proc in ipairs(dead) do
    local held = redis.call('HGETALL', procs .. ':' .. proc)
    for i = 1, #held, 2 do count(held[i], -tonumber(held[i + 1])) end
    redis.call('DEL', procs .. ':' .. proc)
    redis.call('ZREM', procs, proc)
  end
end

local function publish()
  if visitors ~= visitors_before then record('visitors', visitors) end
  if #changes == 0 then return end
  redis.call('LTRIM', log, 0, log_size - 1)
  redis.call('PUBLISH', channel, '{"type":"hub.presence","topic":' .. topic_json .. ',"epoch":"' .. epoch ..
    '","first":' .. (last - #changes + 1) .. ',"seq":' .. last .. ',"changes":[' .. table.concat(changes, ',') .. ']}')
end
"""

# ARGV[5]: the process; ARGV[6]: seconds its entry lives; ARGV[7]: "delta" (add the numbers) or
# "full" (the numbers are all it holds now); ARGV[8]: "1" if it expects its entry to be there;
# then (uid, number, member JSON or "") triples. Returns "present" or "absent" (whether the
# process still holds connections here), or "resync" without change when its entry was swept
# (it stalled past its expiry, or Redis lost the keys): the process then sends its full state.
_APPLY = (
    _PRELUDE
    + """
local proc, lives, mode, expected = ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local mine = procs .. ':' .. proc
sweep()
if mode == 'delta' and expected == '1' and not redis.call('ZSCORE', procs, proc) then
  publish()
  return 'resync'
end
if mode == 'full' then
  local current = {}
  local held = redis.call('HGETALL', mine)
  for i = 1, #held, 2 do current[held[i]] = tonumber(held[i + 1]) end
  redis.call('DEL', mine)
  for i = 9, #ARGV, 3 do
    local uid, n = ARGV[i], tonumber(ARGV[i + 1])
    count(uid, n - (current[uid] or 0), ARGV[i + 2])
    current[uid] = nil
    if n > 0 then redis.call('HSET', mine, uid, n) end
  end
  for uid, n in pairs(current) do count(uid, -n) end
else
  for i = 9, #ARGV, 3 do
    local uid, delta = ARGV[i], tonumber(ARGV[i + 1])
    local left = redis.call('HINCRBY', mine, uid, delta)
    if left <= 0 then
      redis.call('HDEL', mine, uid)
      if left < 0 then delta = delta - left end -- never take away more than this process holds
    end
    count(uid, delta, ARGV[i + 2])
  end
end
local present = redis.call('EXISTS', mine) == 1
if present then
  redis.call('ZADD', procs, now + lives, proc)
else
  redis.call('ZREM', procs, proc)
end
publish()
-- Keys live ttl after a heartbeat, a full write, or this process's first write here (not on every change).
if #ARGV < 9 or mode == 'full' or expected ~= '1' then
  for _, key in ipairs({meta, totals, members, procs, log, mine}) do redis.call('EXPIRE', key, ttl) end
end
if present then return 'present' end
return 'absent'
"""
)

# ARGV[5]: "count", or "since" with ARGV[6], ARGV[7] the epoch and seq the caller's copy is at
# ("" and 0 for none). Returns {epoch, seq, visitors, ...}: for "count", the number of members;
# else "delta" and the log entries after the caller's seq, oldest first, or "full" and every
# member's JSON.
_READ = (
    _PRELUDE
    + """
sweep()
publish()
local seq = last
local reply = {epoch, seq, visitors}
if ARGV[5] == 'count' then
  reply[4] = redis.call('HLEN', members)
  return reply
end
if ARGV[6] == epoch then
  local missing = seq - tonumber(ARGV[7])
  if missing >= 0 and missing <= redis.call('LLEN', log) then
    reply[4] = 'delta'
    if missing > 0 then
      local entries = redis.call('LRANGE', log, 0, missing - 1)
      for i = #entries, 1, -1 do reply[#reply + 1] = entries[i] end
    end
    return reply
  end
end
reply[4] = 'full'
local all = redis.call('HGETALL', members)
for i = 2, #all, 2 do reply[#reply + 1] = all[i] end
return reply
"""
)


@dataclass(frozen=True)
class Reading:
    """A topic's presence as read: its epoch and seq, visitors, and members or the changes since a seq."""

    epoch: str
    seq: int
    visitors: int
    full: bool  # entries are every member's JSON; else the log entries ``[seq, kind, body]`` after the seq asked
    entries: list[str]
    members: int = 0  # "count" readings: how many members


async def apply(topic: str, process: str, lives: float, mode: str, expected: bool, items: list[tuple]) -> str:
    """Change ``process``'s connections to ``topic`` (``mode`` "delta" or "full"); return "present", "absent" or "resync"."""
    args = [mode, "1" if expected else "0"]
    for uid, number, member in items:
        args += [uid, number, member]
    channel, keys, head = _call(topic)
    reply = await get_channel_layer().run_script(channel, _APPLY, keys, [*head, process, lives, *args])
    return _text(reply)


async def read(topic: str, known: tuple[str, int] | None) -> Reading:
    """Return ``topic``'s presence: the changes after ``known`` (epoch, seq) if the log still has them, else all."""
    epoch, seq = known or ("", 0)
    channel, keys, head = _call(topic)
    reply = await get_channel_layer().run_script(channel, _READ, keys, [*head, "since", epoch, seq])
    return _reading(reply)


def read_sync(topic: str, what: str = "members") -> Reading:
    """Return ``topic``'s presence from sync code: every member (``what`` "members") or their number ("count")."""
    channel, keys, head = _call(topic)
    # The layer's sync client of the shard that carries the group's channel: where run_script runs.
    client = get_channel_layer()._sync_script(channel).registered_client
    script = _SYNC_SCRIPTS.get(id(client))
    if script is None:
        script = _SYNC_SCRIPTS[id(client)] = client.register_script(_READ)
    return _reading(script(keys=keys, args=[*head, "count" if what == "count" else "since", "", 0]))


def online_pattern() -> str:
    """Return the pattern of the pub/sub channels of users' own groups: one per user connected anywhere."""
    return _group_channel(groups.user_group(0).rpartition(".")[0] + ".*")


_SYNC_SCRIPTS: dict[int, Any] = {}


def _call(topic: str) -> tuple[str, list[str], list[Any]]:
    """Return the group channel (it picks the shard), the keys and the leading arguments of a script on ``topic``."""
    channel = _group_channel(groups.topic_group(topic))
    base = "%s:presence:%s" % (redis_client.prefix(), topic)
    return channel, [base], [channel, json.dumps(topic), LOG_SIZE, KEY_TTL]


def _group_channel(group: str) -> str:
    """Return the pub/sub channel of ``group``, named as channels-redis' ``_get_group_channel_name`` does."""
    return "%s__group__%s" % (redis_client.prefix(), group)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _reading(reply: list[Any]) -> Reading:
    epoch, seq, visitors, kind = _text(reply[0]), int(reply[1]), int(reply[2]), reply[3]
    if isinstance(kind, int):
        return Reading(epoch, seq, visitors, full=True, entries=[], members=kind)
    return Reading(epoch, seq, visitors, full=_text(kind) == "full", entries=[_text(item) for item in reply[4:]])
