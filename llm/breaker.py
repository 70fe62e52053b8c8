"""A circuit breaker whose state every process shares (Redis), or the process alone (memory).

Built on pybreaker's storage classes only. `CircuitBreaker.call` holds one process-wide lock for
the whole wrapped call, which would serialize concurrent LLM requests; here callers ask `allow()`
before a request and report the outcome afterwards, so nothing is held while the request runs.

While Redis is unreachable (llm/redis.py) a shared breaker keeps its state in process memory
instead (a circuit of its own per name, closed at first, as pybreaker's fallback state is), and
goes back to the shared state once Redis answers.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import pybreaker
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from llm.limits import Gate
from llm.redis import REDIS_ERRORS, llm_key, redis_available, redis_client, redis_failed, register_memory_reset

if TYPE_CHECKING:
    from llm.limits import SlotLease

logger = logging.getLogger(__name__)

CLOSED = pybreaker.STATE_CLOSED
OPEN = pybreaker.STATE_OPEN
HALF_OPEN = pybreaker.STATE_HALF_OPEN

StorageMode = Literal["auto", "memory", "redis"]


class _SharedStorage(pybreaker.CircuitRedisStorage):
    """pybreaker's Redis storage, which answers its fallback state (closed) when Redis fails and logs
    each failure with a traceback: here a connection error is reported to llm.redis instead (counted,
    one warning), so the breaker turns to process memory until Redis answers again."""

    class _Logger:
        def exception(self, message: str, *args: object) -> None:
            exc = sys.exc_info()[1]
            if exc is not None and isinstance(exc, REDIS_ERRORS):
                redis_failed(exc, where="the circuit breaker")
                return
            logger.exception(message, *args)

    logger = _Logger()  # type: ignore[assignment]

    def _initialize_redis_state(self, state: str) -> None:
        if not redis_available():
            return  # done when Redis is back: reading a missing state re-initialises it
        try:
            super()._initialize_redis_state(state)
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="the circuit breaker")


class _MemoryCircuit:
    """One named circuit in this process: pybreaker's memory storage, a lock, and the trial lease."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.storage = pybreaker.CircuitMemoryStorage(CLOSED)
        self.trial_until = 0.0

    def reset(self) -> None:
        with self.lock:
            # A fresh storage, because pybreaker's opened_at setter cannot forget a value.
            self.storage = pybreaker.CircuitMemoryStorage(CLOSED)
            self.trial_until = 0.0


_memory_circuits: dict[str, _MemoryCircuit] = {}
# The circuits shared breakers fall back to while Redis is away (apart from memory-only breakers).
_outage_circuits: dict[str, _MemoryCircuit] = {}
_memory_circuits_lock = threading.Lock()


def _memory_circuit(name: str, *, outage: bool = False) -> _MemoryCircuit:
    # Same name, same circuit: two Breaker objects in one process behave like two processes on Redis.
    with _memory_circuits_lock:
        return (_outage_circuits if outage else _memory_circuits).setdefault(name, _MemoryCircuit())


class Breaker:
    """Opens after `fail_max` consecutive failures; after `reset_timeout` s lets one trial request through."""

    def __init__(
        self,
        name: str,
        *,
        fail_max: int,
        reset_timeout: float,
        storage: StorageMode = "auto",
        trial_timeout: float | None = None,
    ) -> None:
        if fail_max < 1:
            raise ValueError("fail_max must be at least 1")
        self.name = name
        self.fail_max = fail_max
        self.reset_timeout = reset_timeout
        # A trial whose caller crashed must not keep the circuit shut forever: its lease expires.
        self.trial_timeout = trial_timeout if trial_timeout is not None else reset_timeout
        client = redis_client() if storage in ("auto", "redis") else None
        if storage == "redis" and client is None:
            raise ImproperlyConfigured("Breaker(storage='redis') needs the django-redis cache (REDIS_URL).")
        self._redis: redis.Redis | None = client
        self._memory: _MemoryCircuit | None = None
        self._namespace = llm_key("breaker", name)
        self._redis_storage: pybreaker.CircuitRedisStorage | None = None
        self._outage = _memory_circuit(name, outage=True) if client is not None else None
        if client is not None:
            self._redis_storage = _SharedStorage(CLOSED, client, namespace=self._namespace)
            # pybreaker's own key layout, so `state`, `failure_count` and its storage keep working.
            self._state_key = f"{self._namespace}:pybreaker:state"
            self._counter_key = f"{self._namespace}:pybreaker:fail_counter"
            # A success closes the circuit, zeroes the count and frees the trial (pybreaker
            # re-initialises a lost state key as closed; this does the same).
            self._success_commands: list[tuple] = [
                ("SET", self._state_key, CLOSED),
                ("SET", self._counter_key, 0),
                ("DEL", self._trial_key),
            ]
            self._closed_gate: Gate | None = Gate(key=self._state_key, open_value=CLOSED, counter_key=self._counter_key)
        else:
            self._memory = _memory_circuit(name)
            self._closed_gate = None
        self._lock = self._memory.lock if self._memory is not None else threading.RLock()

    def _shared(self) -> tuple[redis.Redis, pybreaker.CircuitRedisStorage, _MemoryCircuit]:
        """The client, its storage and the outage stand-in, on the paths only a Redis breaker takes."""
        if self._redis is None or self._redis_storage is None or self._outage is None:
            raise RuntimeError(f"circuit {self.name} is memory-backed")
        return self._redis, self._redis_storage, self._outage

    @property
    def _local(self) -> _MemoryCircuit | None:
        """The process-memory circuit in use: a memory breaker's, or a shared one's while Redis is away."""
        if self._memory is not None:
            return self._memory
        return None if redis_available() else self._outage

    @property
    def _storage(self) -> pybreaker.CircuitBreakerStorage:
        # Looked up each time: a memory reset swaps the circuit's storage for a fresh one, and Redis
        # may go away or come back between two calls.
        local = self._local
        return local.storage if local is not None else self._shared()[1]

    @property
    def backend(self) -> str:
        """ "redis" while the shared state is used; "memory" without Redis, or while it is away."""
        return "redis" if self._redis is not None and redis_available() else "memory"

    @property
    def closed_gate(self) -> Gate | None:
        """On Redis, the state key as a rate-governor gate, open while the circuit is closed: the
        common case is then read in the slot's admission round trip. None in memory."""
        return self._closed_gate

    @property
    def state(self) -> str:
        """One of "closed", "open" or "half-open" (a trial request is in flight)."""
        return self._storage.state

    @property
    def opened_until(self) -> datetime | None:
        """When the cool-down ends (UTC), or None while closed."""
        with self._lock:
            if self._storage.state == CLOSED:
                return None
            opened_at = self._storage.opened_at
        return None if opened_at is None else opened_at + timedelta(seconds=self.reset_timeout)

    @property
    def may_let_through_soon(self) -> bool:
        """For a caller `allow` just refused: is a trial out (half-open), has the circuit just closed,
        or is its cool-down over (a trial being claimed)? False while it is open in its cool-down
        (a failed trial opens it again)."""
        with self._lock:
            if self._storage.state != OPEN:
                return True
            opened_at = self._storage.opened_at
        return opened_at is None or _now() >= opened_at + timedelta(seconds=self.reset_timeout)

    def allow(self) -> bool:
        """May a request go out now? After the cool-down exactly one caller (in all processes) gets True."""
        with self._lock:
            if self._storage.state == CLOSED:
                return True
            opened_at = self._storage.opened_at
            if opened_at is not None and _now() < opened_at + timedelta(seconds=self.reset_timeout):
                return False
            if not self._claim_trial():
                return False
            self._storage.state = HALF_OPEN
            return True

    def record_success(self, *, lease: SlotLease | None = None) -> None:
        """A request succeeded: close the circuit and forget earlier failures.

        Given the request's rate-governor `lease` (slot still held), on Redis: nothing at all when
        its admission found the circuit closed with no failures (the common case); else the writes
        go out in the pipeline that releases the slot. Otherwise, or in memory, right away.
        """
        shared = self._redis is not None and self._local is None
        if shared and lease is not None:
            if lease.gate_count == 0:
                return  # admitted through this circuit's closed gate, with no failures to forget
            if lease.run_on_release(client=self._redis, commands=self._success_commands):
                return
        with self._lock:
            if shared and self._record_success_redis():
                return
            if self._storage.state != CLOSED:
                self._storage.state = CLOSED
                self._release_trial()
            self._storage.reset_counter()

    def record_failure(self, *, force_open: bool = False) -> None:
        """A request failed. `force_open` (quota, auth) opens at once, as does a failed half-open trial."""
        with self._lock:
            state = self._storage.state
            if force_open or state == HALF_OPEN:
                self._open()
                return
            if state == OPEN:
                # Requests sent before the circuit opened keep failing; they must not extend the cool-down.
                return
            self._storage.increment_counter()
            if self._storage.counter >= self.fail_max:
                self._open()

    def reset(self) -> None:
        """Close the circuit and clear every trace of earlier failures (tests, operators)."""
        with self._lock:
            if self._memory is not None:
                self._memory.reset()
                return
            self._shared()[2].reset()
            self._storage.state = CLOSED
            self._storage.reset_counter()
            self._storage.reset_success_counter()
            # pybreaker only ever moves opened_at forward, so a reset has to delete its key.
            self._shared()[0].delete(f"{self._namespace}:pybreaker:opened_at", self._trial_key)

    @property
    def failure_count(self) -> int:
        return self._storage.counter

    @property
    def _trial_key(self) -> str:
        return f"{self._namespace}:trial"

    def _record_success_redis(self) -> bool:
        """Record a success on Redis, writing only what needs it (one round trip when nothing does);
        False when Redis went away (record it in memory instead)."""
        client = self._shared()[0]
        try:
            state, count = client.mget(self._state_key, self._counter_key)
            if state != CLOSED.encode() or count != b"0":
                pipe = client.pipeline(transaction=True)  # all or nothing, as one state change
                for command in self._success_commands:
                    pipe.execute_command(*command)
                pipe.execute()
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="the circuit breaker")
            return False
        except redis.RedisError:
            # As pybreaker's storage does: a success that cannot be recorded must not fail the request.
            logger.exception("circuit %s: Redis unavailable while recording a success", self.name)
        return True

    def _open(self) -> None:
        self._storage.state = OPEN
        self._storage.opened_at = _now()
        self._release_trial()
        logger.warning("circuit %s opened until %s", self.name, self.opened_until)

    def _claim_trial(self) -> bool:
        local = self._local
        if local is None:
            try:
                claimed = self._shared()[0].set(
                    self._trial_key, uuid.uuid4().hex, nx=True, px=max(1, int(self.trial_timeout * 1000))
                )
            except REDIS_ERRORS as exc:
                redis_failed(exc, where="the circuit breaker")
                local = self._shared()[2]  # one trial per process while Redis is away
            except redis.RedisError:
                # pybreaker's storage falls back to "closed" when Redis misbehaves; stay consistent.
                logger.exception("circuit %s: Redis unavailable while claiming the trial", self.name)
                return True
            else:
                return bool(claimed)
        now = time.time()
        if local.trial_until > now:
            return False
        local.trial_until = now + self.trial_timeout
        return True

    def _release_trial(self) -> None:
        local = self._local
        if local is not None:
            local.trial_until = 0.0
            return
        try:
            self._shared()[0].delete(self._trial_key)
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="the circuit breaker")
        except redis.RedisError:
            logger.exception("circuit %s: Redis unavailable while releasing the trial", self.name)


def _now() -> datetime:
    return datetime.now(UTC)


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def get_breaker(name: str = "default") -> Breaker:
    """The process's breaker for `name`, with OPENAI_CIRCUIT_* thresholds; its state is shared via Redis."""
    breaker = _breakers.get(name)
    if breaker is None:
        with _breakers_lock:
            breaker = _breakers.get(name)
            if breaker is None:
                breaker = Breaker(
                    name,
                    fail_max=settings.OPENAI_CIRCUIT_FAILURE_THRESHOLD,
                    reset_timeout=settings.OPENAI_CIRCUIT_RESET_TIMEOUT,
                    # The trial is one request; once it can no longer be running, another caller may try.
                    trial_timeout=settings.OPENAI_REQUEST_TIMEOUT + settings.OPENAI_CONNECTION_TIMEOUT,
                )
                _breakers[name] = breaker
    return breaker


def _reset_memory_state() -> None:
    with _breakers_lock:
        _breakers.clear()
    with _memory_circuits_lock:
        circuits = [*_memory_circuits.values(), *_outage_circuits.values()]
    for circuit in circuits:
        circuit.reset()


register_memory_reset(_reset_memory_state)
