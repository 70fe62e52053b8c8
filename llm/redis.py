"""The raw Redis client behind the Django cache, and the key namespace the llm layer owns in it.

The response-cache index, the circuit breaker, the rate limits and the concurrency leases all live
under `contentops:llm:` so they are shared by every web and worker process, and so tests and
operators can wipe them without touching anything else. Without Redis each primitive keeps its
state in process memory; those modules register a reset hook here for tests.

Redis can vanish (DESIGN.md §4). Every Redis touch on the hot path catches the connection errors
(`REDIS_ERRORS`) and reports them here (`redis_failed`); from then on, `redis_available()` is False
and each primitive runs on process memory instead of Redis: cache reads miss and writes are
skipped, the breaker keeps its state per process, and the rate governor takes a conservative share
of the limits (LLM_REDIS_DOWN_PROCESS_SHARE). Nothing else changes for the caller. A warning is
logged when Redis goes away (then at most once a minute while it stays away) and every error is
counted (`redis_outage_stats`, in the llm metrics). At most every LLM_REDIS_RETRY_SECONDS a
background thread pings Redis (no call waits for it); once it answers, the shared state is used
again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import caches
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger("contentops.llm")

KEY_PREFIX = "contentops:llm:"

# What "Redis is unreachable" looks like: redis-py's own errors (BusyLoadingError, a Redis still
# loading its data, is a ConnectionError), and django-redis's wrapper around them (the Django cache).
REDIS_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionInterrupted,
)
_OUTAGE_CAUSES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
# While Redis stays away, its warning is repeated at most this often (every error is counted).
WARNING_INTERVAL_S = 60.0

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


@dataclass(frozen=True)
class RedisOutageStats:
    available: bool
    errors: int  # Redis errors met since the process started (or the last test reset)
    down_for_s: float  # how long the current outage has lasted (0 while Redis answers)


class _Outage:
    """This process's view of Redis: up, or down until the next re-check."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.down = False  # read without the lock on the hot path: one attribute, no round trip
        self.down_since = 0.0
        self.retry_at = 0.0
        self.checking = False
        self.errors = 0
        self.warned_at: float | None = None

    def failed(self, exc: BaseException, where: str) -> None:
        now = time.monotonic()
        with self.lock:
            self.errors += 1
            if not self.down:
                self.down, self.down_since = True, now
            self.retry_at = now + settings.LLM_REDIS_RETRY_SECONDS
            warn = self.warned_at is None or now - self.warned_at >= WARNING_INTERVAL_S
            if warn:
                self.warned_at = now
            errors, down_for = self.errors, now - self.down_since
        if warn:
            logger.warning(
                "Redis is unreachable (%s during %s; %d errors so far, down for %.0f s): the llm layer runs on "
                "process memory (cache misses, per-process breaker, 1/%d of the rate limits) until it answers",
                _describe(exc),
                where,
                errors,
                down_for,
                settings.LLM_REDIS_DOWN_PROCESS_SHARE,
            )

    def available(self) -> bool:
        if not self.down:
            return True
        now = time.monotonic()
        with self.lock:
            if not self.down:
                return True
            if self.checking or now < self.retry_at:
                return False
            self.checking = True
        # Looked at in the background: no call waits for a Redis that may not answer before its
        # socket timeout. This one (and any until the ping answers) goes on without Redis.
        threading.Thread(target=self._recheck, name="llm-redis-recheck", daemon=True).start()
        return False

    def _recheck(self) -> None:
        try:
            client = redis_client()
            if client is not None:
                client.ping()
        except REDIS_ERRORS as exc:
            if _is_outage(exc):
                self.failed(exc, "the re-check")
                return
            # Redis answered (with an error of another kind): it is there again.
        finally:
            with self.lock:
                self.checking = False
        with self.lock:
            if not self.down:
                return
            down_for, self.down, self.warned_at = time.monotonic() - self.down_since, False, None
        logger.warning("Redis answers again after %.0f s: the llm layer uses its shared state again", down_for)

    def stats(self) -> RedisOutageStats:
        with self.lock:
            down_for = time.monotonic() - self.down_since if self.down else 0.0
            return RedisOutageStats(available=not self.down, errors=self.errors, down_for_s=round(down_for, 1))


_outage = _Outage()


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionInterrupted):
        # django-redis wraps every error of its client in this, Redis's refusals of a command too.
        return isinstance(exc.__cause__, _OUTAGE_CAUSES)
    return isinstance(exc, REDIS_ERRORS)


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, ConnectionInterrupted) and exc.__cause__ is not None else exc
    return f"{type(cause).__name__}: {cause}"[:200]


def redis_available() -> bool:
    """False while Redis is known to be unreachable (until a re-check finds it back).

    Cheap on the hot path: one attribute read while Redis is up. With no Redis configured it is
    True (nothing is down); callers decide with `redis_client()` whether they use Redis at all.
    """
    return _outage.available()


def redis_failed(exc: BaseException, *, where: str) -> None:
    """Report a Redis error caught in `except REDIS_ERRORS`: counted, logged (rate-limited), and
    Redis is skipped until the next re-check. An error that is not an outage (a command Redis
    refused, wrapped by django-redis) is raised again."""
    if not _is_outage(exc):
        raise exc
    _outage.failed(exc, where)


def redis_outage_stats() -> RedisOutageStats:
    """Whether Redis is used now, how many Redis errors this process met, how long it has been away."""
    return _outage.stats()


def llm_key(*parts: str | int) -> str:
    """A namespaced Redis key, e.g. `llm_key("breaker", "default")` -> `contentops:llm:breaker:default`."""
    return KEY_PREFIX + ":".join(str(part) for part in parts)


def register_memory_reset(reset: Callable[[], None]) -> None:
    """Let a module forget its in-process state when tests call `reset_shared_state_for_tests`."""
    with _memory_resets_lock:
        if reset not in _memory_resets:
            _memory_resets.append(reset)


def reset_shared_state_for_tests() -> int:
    """Reset in-memory state (as in a fresh process) and delete every `contentops:llm:*` key;
    returns the Redis keys deleted (0 when Redis is unreachable: it is then known to be down)."""
    _outage.reset()
    with _memory_resets_lock:
        resets = list(_memory_resets)
    for reset in resets:
        reset()
    deleted = 0
    client = redis_client()
    if client is not None:
        try:
            # SCAN, not KEYS: never block a shared Redis, even from a test helper.
            batch: list[bytes] = []
            for key in client.scan_iter(match=KEY_PREFIX + "*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += client.delete(*batch)
                    batch.clear()
            if batch:
                deleted += client.delete(*batch)
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="resetting the shared state")
    return deleted
