"""Exact-match LLM response cache: values in the Django cache, an LRU index beside them.

The Django cache stores the values (with OPENAI_CACHE_TTL) but cannot cap the llm layer's share of
it, count evictions, or find one task's or one user's entries. So an index lives next to it: in
Redis (sorted sets + sets, changed atomically by the scripts of llm/scripts.py) when the cache is django-redis, so every
process shares one LRU and one set of counters; in an OrderedDict under a lock otherwise.

On Redis a read is one round trip (`ADMIT`, llm/scripts.py, reads the value and counts the hit or
miss; on a miss it can also admit the request, for the call's `limits.CallSlot`) and so is a write
(`CACHE_STORE` stores the value and updates the index, deleting evicted values). The values stay
where the Django cache keeps them (its key function and its serializer), so `cache.get`,
`cache.ttl` and `cache.clear` still see them.

While Redis is unreachable (llm/redis.py) a read is a miss and a write is skipped: the answer still
comes from the provider, and nothing waits on a Redis that is not there.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from django.core.cache import cache, caches

from llm.redis import REDIS_ERRORS, llm_key, redis_available, redis_client, redis_failed, register_memory_reset
from llm.scripts import ADMIT, CACHE_FORGET, CACHE_STORE, run_script

if TYPE_CHECKING:
    from llm.limits import CallSlot, SlotLease

_VALUE_PREFIX = "llm:resp:"
# Task and user names are joined with a byte that cannot appear in either, so Lua can split them.
_OWNER_SEP = "\x1f"
_DELETE_CHUNK = 1000

_LRU = llm_key("cache", "lru")  # key -> last use (epoch seconds)
_EXP = llm_key("cache", "exp")  # key -> expiry (epoch seconds), to drop entries the TTL already removed
_OWNER = llm_key("cache", "owner")  # key -> "task<sep>user_id"
_STATS = llm_key("cache", "stats")  # hits, misses, evictions
_TASK_PREFIX = llm_key("cache", "task", "")
_USER_PREFIX = llm_key("cache", "user", "")


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    evictions: int
    size: int


def cache_key(
    *, provider: str, model: str, task_name: str, task_version: int, schema_hash: str, messages: list[dict]
) -> str:
    """The sha256 hex of a canonical JSON of everything that determines the answer."""
    payload = {
        "provider": provider,
        "model": model,
        "task": task_name,
        "version": task_version,
        "schema": schema_hash,
        "messages": messages,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def cache_get(*, key: str, call: CallSlot | None = None) -> dict | None:
    """The cached response or None; counts a hit (refreshing LRU recency) or a miss.

    Given the call's `CallSlot` (admitting ahead), on Redis a miss also takes the slot of the
    request that follows it, in the same round trip, and the call holds it; a hit takes none.
    """
    if not settings.OPENAI_CACHE_ENABLED:
        return None
    client = redis_client()
    if client is not None:
        if not redis_available():
            return None
        try:
            return _redis_get(client=client, key=key, call=call)
        except REDIS_ERRORS as exc:
            # The call holds nothing we know of (a slot taken in a reply we never got expires
            # with its lease); its attempt then admits itself, on process memory.
            redis_failed(exc, where="the LLM cache read")
            return None
    value = cache.get(_VALUE_PREFIX + key)
    _memory.record_read(key=key, hit=value is not None)
    return value


def cache_set(
    *, key: str, value: dict, task_name: str, user_id: int | None = None, lease: SlotLease | None = None
) -> None:
    """Store a response for OPENAI_CACHE_TTL; beyond OPENAI_CACHE_MAX_SIZE entries the LRU ones go.

    Given the rate-governor `lease` of the request that produced it (slot still held), on Redis the
    store rides on the round trip that releases the slot.
    """
    if not settings.OPENAI_CACHE_ENABLED:
        return
    ttl = settings.OPENAI_CACHE_TTL
    now = time.time()
    client = redis_client()
    if client is not None:
        if not redis_available():
            return  # a cache that is not there stores nothing; the answer itself is not lost
        keys, args, value_prefix = _redis_set_call(
            key=key, value=value, task_name=task_name, user_id=user_id, now=now, ttl=ttl
        )
        # The script deletes evicted values itself when it knows their prefix; otherwise the victims
        # come back for Python to delete, which a script queued on the release cannot hand back.
        lua_deletes_values = bool(value_prefix)
        rides_on_release = (
            lua_deletes_values
            and lease is not None
            and lease.run_on_release(client=client, script=CACHE_STORE, keys=keys, args=args)
        )
        if rides_on_release:
            return
        try:
            victims = run_script(client, CACHE_STORE, keys=keys, args=args)
            victims = [] if lua_deletes_values else [_text(victim) for victim in victims]
            _delete_values(keys=victims)
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="the LLM cache write")
        return
    cache.set(_VALUE_PREFIX + key, value, ttl)
    victims = _memory.add(key=key, task_name=task_name, user_id=user_id, now=now, expires_at=now + ttl)
    _delete_values(keys=victims)


def cache_clear(*, task_name: str | None = None, user_id: int | None = None) -> int:
    """Remove all entries, one task's, one user's (or both filters: their intersection); returns the count."""
    client = redis_client()
    if client is not None:
        removed, values_left = _redis_clear(client=client, task_name=task_name, user_id=user_id)
        _delete_values(keys=values_left)
        return len(removed)
    removed = _memory.clear(task_name=task_name, user_id=user_id)
    _delete_values(keys=removed)
    return len(removed)


def cache_stats() -> CacheStats:
    """Hits, misses and evictions since the last reset, and the live entry count."""
    client = redis_client()
    if client is not None:
        if not redis_available():
            return CacheStats(hits=0, misses=0, evictions=0, size=0)  # the counters live in Redis
        try:
            # Live entries are those not yet past their expiry: no purge needed to count them.
            pipe = client.pipeline(transaction=False)
            pipe.hmget(_STATS, "hits", "misses", "evictions")
            pipe.zcount(_EXP, f"({time.time()}", "+inf")
            (hits, misses, evictions), size = pipe.execute()
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="reading the LLM cache counters")
            return CacheStats(hits=0, misses=0, evictions=0, size=0)
        return CacheStats(hits=int(hits or 0), misses=int(misses or 0), evictions=int(evictions or 0), size=int(size))
    return _memory.stats()


def cache_stats_reset() -> None:
    """Zero the hit/miss/eviction counters; entries stay."""
    client = redis_client()
    if client is not None:
        client.delete(_STATS)
    else:
        _memory.reset_counters()


def _delete_values(*, keys: list[str]) -> None:
    for start in range(0, len(keys), _DELETE_CHUNK):
        cache.delete_many([_VALUE_PREFIX + key for key in keys[start : start + _DELETE_CHUNK]])


# --- Redis index --------------------------------------------------------------------------------
# The scripts (llm/scripts.py) build task/user set names from a prefix, which is fine on a single
# Redis (the deployment here) but would need hash tags on Redis Cluster.


def _value_keys(key: str) -> tuple[Any, str, str]:
    """(the django-redis backend, the Django cache's key for `key`'s value, the prefix for Lua or '')."""
    backend = caches["default"]
    prefix = _composed_prefix(backend, backend.key_prefix, backend.version, backend.key_func)
    return backend, prefix + key if prefix else backend.make_key(_VALUE_PREFIX + key), prefix


@functools.lru_cache(maxsize=8)
def _composed_prefix(backend: Any, key_prefix: str, version: int, key_func: Any) -> str:
    """The values' key prefix when the cache's key function composes as prefix + key, else ''.

    Keyed on what `make_key` reads, so changed settings (a new backend, prefix or version) count.
    """
    prefix = backend.make_key(_VALUE_PREFIX)
    # A custom KEY_FUNCTION may not compose as prefix + key: Lua then leaves value deletes to Python.
    return prefix if backend.make_key(_VALUE_PREFIX + "0") == prefix + "0" else ""


def _redis_get(*, client: redis.Redis, key: str, call: CallSlot | None) -> dict | None:
    """One `ADMIT` round trip: the value (a hit), or a miss that also admits for `call`."""
    backend, value_key, _ = _value_keys(key)
    admits = call is not None and call.rides_with(client)
    # Without an admission part, KEYS 4 is '' (the script then admits nothing).
    admit_keys, admit_args = call.ask() if call is not None and admits else (["", "", "", "", ""], ["", 0, 0, ""])
    keys, args = [value_key, _LRU, _STATS, *admit_keys], [key, time.time(), *admit_args]
    raw, stale, *entered = run_script(client, ADMIT, keys=keys, args=args)
    if raw is not None:
        return backend.client.decode(raw)
    if call is not None and admits:
        call.receive(entered)
    if stale:  # indexed, but its value is gone (evicted by Redis, deleted by hand): drop the entry
        _forget(client=client, key=key)
    return None


def _forget(*, client: redis.Redis, key: str) -> None:
    try:
        run_script(
            client,
            CACHE_FORGET,
            keys=[_LRU, _EXP, _OWNER],
            args=[_TASK_PREFIX, _USER_PREFIX, time.time(), "", "", "", key],
        )
    except REDIS_ERRORS as exc:
        redis_failed(exc, where="dropping a stale LLM cache entry")


def _redis_set_call(
    *, key: str, value: dict, task_name: str, user_id: int | None, now: float, ttl: int
) -> tuple[list[str], list, str]:
    """KEYS and ARGV of the script that stores the value and indexes it, and the values' key prefix
    it was given ('' when the Django cache's keys don't compose: Python deletes evicted values)."""
    backend, value_key, value_prefix = _value_keys(key)
    args = [
        _TASK_PREFIX,
        _USER_PREFIX,
        key,
        now,
        now + ttl,
        settings.OPENAI_CACHE_MAX_SIZE,
        task_name,
        "" if user_id is None else user_id,
        backend.client.encode(value),
        max(0, int(ttl * 1000)),
        value_prefix,
    ]
    return [_LRU, _EXP, _OWNER, _STATS, value_key], args, value_prefix


def _redis_clear(*, client: redis.Redis, task_name: str | None, user_id: int | None) -> tuple[list[str], list[str]]:
    """(keys removed from the index, keys whose values are left to delete)."""
    _, _, value_prefix = _value_keys("")
    members = run_script(
        client,
        CACHE_FORGET,
        keys=[_LRU, _EXP, _OWNER],
        args=[
            _TASK_PREFIX,
            _USER_PREFIX,
            time.time(),
            task_name or "",
            "" if user_id is None else user_id,
            value_prefix,
            "",
        ],
    )
    removed = [_text(member) for member in members]
    return removed, [] if value_prefix else removed


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- in-process index ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    task_name: str
    user_id: int | None
    expires_at: float


class _MemoryIndex:
    """LRU order in an OrderedDict (oldest first); one lock guards entries and counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._hits = 0
        self._misses = 0
        self._evictions = 0

    def record_read(self, *, key: str, hit: bool) -> None:
        with self._lock:
            if hit:
                self._hits += 1
                if key in self._entries:
                    self._entries.move_to_end(key)
            else:
                self._misses += 1
                self._entries.pop(key, None)

    def add(self, *, key: str, task_name: str, user_id: int | None, now: float, expires_at: float) -> list[str]:
        max_size = settings.OPENAI_CACHE_MAX_SIZE
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = _Entry(task_name=task_name, user_id=user_id, expires_at=expires_at)
            if len(self._entries) <= max_size:
                return []
            # Only when full: entries the TTL already removed are not evictions, so drop them first.
            self._purge_expired(now=now)
            victims: list[str] = []
            while len(self._entries) > max_size:
                victim, _ = self._entries.popitem(last=False)
                victims.append(victim)
            self._evictions += len(victims)
            return victims

    def clear(self, *, task_name: str | None, user_id: int | None) -> list[str]:
        with self._lock:
            self._purge_expired(now=time.time())
            removed = [
                key
                for key, entry in self._entries.items()
                if (task_name is None or entry.task_name == task_name) and (user_id is None or entry.user_id == user_id)
            ]
            for key in removed:
                del self._entries[key]
            return removed

    def stats(self) -> CacheStats:
        with self._lock:
            self._purge_expired(now=time.time())
            return CacheStats(hits=self._hits, misses=self._misses, evictions=self._evictions, size=len(self._entries))

    def reset_counters(self) -> None:
        with self._lock:
            self._hits = self._misses = self._evictions = 0

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = self._evictions = 0

    def _purge_expired(self, *, now: float) -> None:
        expired = [key for key, entry in self._entries.items() if entry.expires_at <= now]
        for key in expired:
            del self._entries[key]


_memory = _MemoryIndex()
register_memory_reset(_memory.reset)
