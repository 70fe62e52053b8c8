"""The llm layer's Redis scripts: all three of them, with their keys and arguments.

Scripts are for what must be atomic; everything else is a plain command or a pipeline.

- `ADMIT`: the hot path's one round trip before a provider request: read the response cache, then
  (on a miss) admit the request: pause, learned limits, the breaker's state, a concurrency slot.
- `CACHE_STORE`: store a response and update the cache's LRU index (evicting past the cap).
- `CACHE_FORGET`: drop index entries (one task's, one user's, all, or one key) and their values.

`run_script` sends one by hash, and its source only when Redis does not know it (a restart).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import NoScriptError


@dataclass(frozen=True)
class Script:
    """A Lua script: its name, its contract (`doc`: KEYS, ARGV, reply) and its source."""

    name: str
    doc: str
    source: str

    @functools.cached_property
    def sha(self) -> str:
        return hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()


def run_script(client: Redis, script: Script, *, keys: list[str], args: list[Any]) -> Any:
    """EVALSHA, falling back to EVAL once if Redis lost its script cache: one round trip normally."""
    try:
        return client.evalsha(script.sha, len(keys), *keys, *args)
    except NoScriptError:
        return client.eval(script.source, len(keys), *keys, *args)


ADMIT = Script(
    name="admit",
    doc="""Read the response cache, then admit a request to the shared budget (each part optional).

KEYS: 1 the cache value key ('' reads nothing), 2 the cache LRU zset, 3 the cache stats hash,
      4 the governor's pause key ('' admits nothing), 5 its learned-limits hash, 6 its semaphore
      zset, 7 the gate key ('' for none: the breaker's state), 8 the gate's failure counter ('' for
      none), 9 the requests window zset
ARGV: 1 cache key, 2 now (epoch s), 3 slot token, 4 max holders, 5 lease ms, 6 the gate's open
      value, 7 the configured RPM (0: the learned one, if any), 8 transit allowance ms
Reply: {value or false, 1 if an index entry had no value, paused ms, learned rpm, learned tpm,
        1 if a slot was taken, 0 if the gate was shut, the gate's failure count, ms until the
        requests window has room (when that is what stopped it)}.
A hit counts a hit, refreshes its LRU recency (XX: an evicted entry is never resurrected) and
admits nothing. A miss counts a miss. A shut gate answers at once, paused or not, and takes
nothing. A slot is taken only when not paused, a concurrency lease is free (leases past their ms
expire) and the requests window has room; then the lease and the window entry are taken together.
The requests window is the shortest whole-second window allowing one request at the RPM (600 RPM:
10 a second, as providers enforce it), lengthened by the transit allowance: the provider counts a
request when it arrives, a little after it was admitted here (one that leaves later has its entry,
scored by this script's TIME in ms, moved forward from Python: `SlotLease.leaving`).""",
    source="""
if KEYS[1] ~= '' then
  local value = redis.call('GET', KEYS[1])
  if value then
    redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
    redis.call('HINCRBY', KEYS[3], 'hits', 1)
    return {value, 0, 0, false, false, 0, 1, 0, 0}
  end
  redis.call('HINCRBY', KEYS[3], 'misses', 1)
end
local stale = 0
if KEYS[1] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[1]) then stale = 1 end
if KEYS[4] == '' then return {false, stale, 0, false, false, 0, 1, 0, 0} end
local failures = 0
if KEYS[7] ~= '' then
  if redis.call('GET', KEYS[7]) ~= ARGV[6] then return {false, stale, 0, false, false, 0, 0, 0, 0} end
  if KEYS[8] ~= '' then failures = tonumber(redis.call('GET', KEYS[8]) or '0') or 0 end
end
local pause = redis.call('PTTL', KEYS[4])
local learned = redis.call('HMGET', KEYS[5], 'rpm', 'tpm')
if pause > 0 then return {false, stale, pause, learned[1], learned[2], 0, 1, failures, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
if redis.call('ZCARD', KEYS[6]) >= tonumber(ARGV[4]) then
  return {false, stale, 0, learned[1], learned[2], 0, 1, failures, 0}
end
local rpm = tonumber(ARGV[7]) or 0
if rpm <= 0 then rpm = tonumber(learned[1]) or 0 end
local window = 0
if rpm > 0 then
  local seconds = math.ceil(60 / rpm)
  local allowed = math.floor(rpm * seconds / 60)
  window = seconds * 1000 + tonumber(ARGV[8])
  redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[9])
  if count >= allowed then
    local leaving = redis.call('ZRANGE', KEYS[9], count - allowed, count - allowed, 'WITHSCORES')
    local wait = math.max(tonumber(leaving[2]) + window - now, 1)
    return {false, stale, 0, learned[1], learned[2], 0, 1, failures, wait}
  end
  redis.call('ZADD', KEYS[9], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[9], window)
end
redis.call('ZADD', KEYS[6], now + tonumber(ARGV[5]), ARGV[3])
redis.call('PEXPIRE', KEYS[6], ARGV[5])
return {false, stale, 0, learned[1], learned[2], 1, 1, failures, 0}
""",
)

# The cache index's helpers, shared by the two cache scripts (KEYS 1-3 and ARGV 1-2 in both).
_INDEX_COMMON = """
local LRU, EXP, OWNER = KEYS[1], KEYS[2], KEYS[3]
local TASK_PREFIX, USER_PREFIX = ARGV[1], ARGV[2]

-- The Django cache's key for an entry's value is VALUE_PREFIX .. key ('' when its key function
-- does not compose like that: Python then deletes the values through the Django cache).
local function drop_values(value_prefix, members)
  if value_prefix == '' then return end
  for i = 1, #members, 1000 do
    local chunk = {}
    for j = i, math.min(i + 999, #members) do chunk[#chunk + 1] = value_prefix .. members[j] end
    redis.call('DEL', unpack(chunk))
  end
end

local function forget(k)
  local owner = redis.call('HGET', OWNER, k)
  if owner then
    local sep = string.find(owner, '\\031', 1, true)
    redis.call('SREM', TASK_PREFIX .. string.sub(owner, 1, sep - 1), k)
    local user = string.sub(owner, sep + 1)
    if user ~= '' then redis.call('SREM', USER_PREFIX .. user, k) end
    redis.call('HDEL', OWNER, k)
  end
  redis.call('ZREM', LRU, k)
  redis.call('ZREM', EXP, k)
end

-- Entries whose value the TTL already removed; bounded so one call never stalls Redis.
local function purge_expired(now)
  local expired = redis.call('ZRANGEBYSCORE', EXP, '-inf', now, 'LIMIT', 0, 1000)
  for _, k in ipairs(expired) do forget(k) end
end
"""

CACHE_STORE = Script(
    name="cache_store",
    doc="""Store a response and index it; past the cap the least recently used entries go.

KEYS: 1 LRU zset (key -> last use), 2 EXP zset (key -> expiry), 3 OWNER hash (key -> task\\x1fuser),
      4 stats hash, 5 the value's key in the Django cache
ARGV: 1 task-set prefix, 2 user-set prefix, 3 key, 4 now (epoch s), 5 expires at, 6 max entries,
      7 task name, 8 user id ('' for none), 9 the encoded value, 10 TTL ms (0: store nothing),
      11 the values' key prefix ('' : Python deletes evicted values)
Reply: the evicted keys (counted as evictions; their values deleted when ARGV 11 is given).""",
    source=_INDEX_COMMON
    + """
local key, now, expires_at, max_size = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local task, user = ARGV[7], ARGV[8]
if tonumber(ARGV[10]) > 0 then
  redis.call('SET', KEYS[5], ARGV[9], 'PX', ARGV[10])
else
  redis.call('DEL', KEYS[5])  -- as the Django cache does with a timeout of 0: nothing stored
end
purge_expired(now)
forget(key)
redis.call('ZADD', LRU, now, key)
redis.call('ZADD', EXP, expires_at, key)
redis.call('HSET', OWNER, key, task .. '\\031' .. user)
redis.call('SADD', TASK_PREFIX .. task, key)
if user ~= '' then redis.call('SADD', USER_PREFIX .. user, key) end
local over = redis.call('ZCARD', LRU) - max_size
local victims = {}
if over > 0 then
  victims = redis.call('ZRANGE', LRU, 0, over - 1)
  for _, k in ipairs(victims) do forget(k) end
  redis.call('HINCRBY', KEYS[4], 'evictions', #victims)
  drop_values(ARGV[11], victims)
end
return victims
""",
)

CACHE_FORGET = Script(
    name="cache_forget",
    doc="""Drop index entries and their values: one key, one task's, one user's (both: their
intersection) or all; entries the TTL removed are purged on the way.

KEYS: 1 LRU zset, 2 EXP zset, 3 OWNER hash
ARGV: 1 task-set prefix, 2 user-set prefix, 3 now (epoch s), 4 task ('' any), 5 user id ('' any),
      6 the values' key prefix ('' : Python deletes them), 7 one key ('' : by task and user)
Reply: the keys dropped.""",
    source=_INDEX_COMMON
    + """
local task, user, one = ARGV[4], ARGV[5], ARGV[7] or ''
purge_expired(ARGV[3])
local members
if one ~= '' then
  members = {}
  if redis.call('ZSCORE', LRU, one) then members = {one} end
elseif task ~= '' and user ~= '' then
  members = redis.call('SINTER', TASK_PREFIX .. task, USER_PREFIX .. user)
elseif task ~= '' then
  members = redis.call('SMEMBERS', TASK_PREFIX .. task)
elseif user ~= '' then
  members = redis.call('SMEMBERS', USER_PREFIX .. user)
else
  members = redis.call('ZRANGE', LRU, 0, -1)
end
for _, k in ipairs(members) do forget(k) end
drop_values(ARGV[6], members)
return members
""",
)

SCRIPTS = (ADMIT, CACHE_STORE, CACHE_FORGET)
