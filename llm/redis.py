"""The raw Redis client behind the Django cache, and the key namespace the llm layer owns in it.

The response-cache index, the circuit breaker, the rate limits and the concurrency leases all live
under `contentops:llm:` so they are shared by every web and worker process, and so tests and
operators can wipe them without touching anything else. Without Redis each primitive keeps its
state in process memory; those modules register a reset hook here for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis
from django.core.cache import caches

KEY_PREFIX = "contentops:llm:"

_memory_resets: list[Callable[[], None]] = []
_memory_resets_lock = threading.Lock()


def redis_client() -> redis.Redis | None:
    """The client of the default django-redis cache (shared connection pool), or None without Redis."""
    # Imported lazily: django_redis imports the cache machinery, and memory-only setups never need it.
    from django_redis.cache import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def llm_key(*parts: str | int) -> str:
    """A namespaced Redis key, e.g. `llm_key("breaker", "default")` -> `contentops:llm:breaker:default`."""
    return KEY_PREFIX + ":".join(str(part) for part in parts)


def register_memory_reset(reset: Callable[[], None]) -> None:
    """Let a module forget its in-process state when tests call `reset_shared_state_for_tests`."""
    with _memory_resets_lock:
        if reset not in _memory_resets:
            _memory_resets.append(reset)


def reset_shared_state_for_tests() -> int:
    """Delete every `contentops:llm:*` key and reset in-memory state; returns the Redis keys deleted."""
    deleted = 0
    client = redis_client()
    if client is not None:
        # SCAN, not KEYS: never block a shared Redis, even from a test helper.
        batch: list[bytes] = []
        for key in client.scan_iter(match=KEY_PREFIX + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += client.delete(*batch)
                batch.clear()
        if batch:
            deleted += client.delete(*batch)
    with _memory_resets_lock:
        resets = list(_memory_resets)
    for reset in resets:
        reset()
    return deleted
