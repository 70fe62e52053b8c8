"""Requests-per-minute, tokens-per-minute and concurrency budgets shared by every process.

Celery's own `rate_limit` is per worker, so the budget lives in Redis when the Django cache is
django-redis, and in process memory otherwise (the `limits` library's moving window and
sliding-window counter, and a condition variable). Callers wrap each provider request in
`governor.slot(...)`, which sleeps until the request fits, and feed the provider's `x-ratelimit-*`
headers back through `observe_headers` so unconfigured limits are learned.

On Redis, admission is one atomic script, `ADMIT` (llm/scripts.py): the pause, the learned limits,
the breaker's state (a `Gate`), a concurrency lease and a place in the requests window (RPM), all
taken together or not at all; when it says "not yet" it says how long (pause, RPM) and the slot
sleeps that long. Leaving is one pipeline (the lease, and what rides with it: a cache store, the
breaker's writes when it has any). So without a TPM limit a slot costs two round trips, and
entering can itself ride on the cache read's round trip. One object owns a call's slot from that
admission to its release: a `CallSlot` (`governor.slot()` is one for a single request). A TPM limit adds the
`limits` library's sliding-window hits. A 429 pauses everyone for its retry-after and takes the
refused request out of the window (the provider did not count it either), and a request that left
its process late (a stall between admission and send) is counted from when it left
(`SlotLease.leaving`, told by the SDK's HTTP client).

While Redis is unreachable (llm/redis.py) a Redis governor hands every slot to a process-local
stand-in with 1/LLM_REDIS_DOWN_PROCESS_SHARE of its RPM, TPM and concurrency (learned limits too;
at least one request at a time): a conservative share, since the other processes cannot be seen.
Slots taken on Redis before it went away expire with their leases. When Redis answers again the
shared budget is used again.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from prometheus_client import Histogram
from redis import Redis, RedisError
from redis.exceptions import NoScriptError

from config.errors import RateLimitedError
from llm.redis import REDIS_ERRORS, llm_key, redis_available, redis_client, redis_failed, register_memory_reset
from llm.scripts import ADMIT, Script, run_script

logger = logging.getLogger(__name__)

# Forcing an adjustment through a limiter: a limit no count can reach (and still exact in Lua's doubles).
_UNBOUNDED = 2**52
# After losing a race for the last unit of budget, wait a little before looking again (never spin).
_RETRY_DELAY = 0.005
# Re-read shared state (pause, learned limits) at least this often while waiting.
_MAX_SLEEP = 5.0
_POLL_MIN, _POLL_MAX = 0.005, 0.05
_LEARNED_TTL = 24 * 3600

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|h|m|s)")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|h|m|s))+")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


# Seconds each admission to the shared budget waited (this process; scraped at /metrics, config/metrics.py).
LIMITER_WAIT_SECONDS = Histogram(
    "contentops_llm_limiter_wait_seconds",
    "Time LLM calls waited for the shared RPM/TPM/concurrency budget (this process).",
    buckets=(0.005, 0.05, 0.25, 1.0, 5.0, 15.0, 60.0),
)


class RateBudgetTimeout(RateLimitedError):
    """The request would not fit in the shared rate/concurrency budget before its deadline."""


class GateShut(Exception):  # noqa: N818 - a state, not a failure
    """`slot(gate=...)` found the gate's key not holding its open value; no slot was taken."""


@dataclass(frozen=True)
class Gate:
    """A Redis key that must hold `open_value` for a slot to be taken (e.g. a closed circuit).

    Read in the admission round trip, so checking it costs nothing extra.
    """

    key: str
    open_value: str
    # A counter read with it (the breaker's consecutive failures), so a success that finds nothing
    # to reset writes nothing; '' for none.
    counter_key: str = ""


def parse_reset_duration(value: str | None) -> float | None:
    """Seconds in an `x-ratelimit-reset-*` value ("1s", "6m0s", "20ms", "1h2m3.5s", or a bare number)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    if not _DURATION.fullmatch(value):
        return None
    return sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(value))


def rpm_window(rpm: int) -> tuple[int, int]:
    """(seconds, requests): the smallest whole-second window allowing at least one request at `rpm`.

    Providers enforce per-minute limits over short intervals, so a full-minute burst would be refused.
    """
    seconds = math.ceil(60 / rpm)
    return seconds, rpm * seconds // 60


class _ThisThread(threading.local):
    """This thread's slot while its attempt runs, and when its last `ADMIT` round trip began."""

    lease: SlotLease | None = None
    asked_at: float = 0.0


_this_thread = _ThisThread()


def request_leaving() -> None:
    """A provider request on this thread is going out, or has just been sent (the SDK's HTTP client
    says both, llm/providers.py): its slot may have to count it from now (`SlotLease.leaving`)."""
    lease = _this_thread.lease
    if lease is not None:
        lease.leaving()


@dataclass
class SlotLease:
    """One admitted request: holds a concurrency slot until the `slot()` block exits."""

    governor: RateGovernor
    estimated_tokens: int
    charged_tokens: int
    waited_seconds: float
    _tpm_item: RateLimitItem | None = field(default=None, repr=False)
    _token: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False)
    # Set while the slot is held. Tokens settled then without a TPM limit known at admission wait
    # for the release, whose round trip also looks for a limit learned in the meantime.
    _held: bool = field(default=False, repr=False)
    _unsettled: int | None = field(default=None, repr=False)
    _on_release: list[tuple[Script, list[str], list]] = field(default_factory=list, repr=False)
    _commands_on_release: list[tuple] = field(default_factory=list, repr=False)
    # The gate's counter as read at admission (the breaker's failures); None when no gate was read.
    gate_count: int | None = None
    # On Redis with an RPM: `time.monotonic()` as the admission round trip that took this slot
    # began, the requests window's length (ms), and how far `leaving` moved its stamp (ms).
    _asked_at: float = field(default=0.0, repr=False)
    _window_ms: int | None = field(default=None, repr=False)
    _moved_ms: int = field(default=0, repr=False)

    def leaving(self) -> None:
        """The request is going out, or has just been written to the socket (`request_leaving`).

        `ADMIT` stamped the request's place in the requests window with Redis's clock when it
        admitted it; the provider counts it when it arrives. The transit allowance covers the way
        there, not a process that stalls in between (descheduled on a busy machine, or waiting
        while another thread builds the SDK client): a request that has left more than half the
        allowance after its admission round trip began is counted from now instead. Its stamp
        moves forward by that time, measured on this process's clock and added to Redis's stamp
        (no clocks compared; never less than the true delay), so the window holds it at least as
        long as the provider does. One round trip, only for such a late request.
        """
        governor = self.governor
        if not self._held or not self._asked_at or self._window_ms is None or governor._memory is not None:
            return
        late_ms = math.ceil((time.monotonic() - self._asked_at) * 1000)
        delta = late_ms - self._moved_ms
        if delta <= settings.OPENAI_RATE_TRANSIT_MS // 2:
            return
        self._moved_ms = late_ms
        key = governor._rpm_key
        try:
            client = governor._client()
            pipe = client.pipeline(transaction=False)
            pipe.zadd(key, {self._token: delta}, xx=True, incr=True)
            pipe.pexpire(key, self._window_ms + late_ms, gt=True)
            moved, _ = pipe.execute()
            if moved is None:
                # Late by more than the window: its stamp already left it. Count it from now.
                seconds, micros = client.time()
                pipe = client.pipeline(transaction=False)
                pipe.zadd(key, {self._token: seconds * 1000 + micros // 1000})
                pipe.pexpire(key, self._window_ms, nx=True)
                pipe.pexpire(key, self._window_ms, gt=True)
                pipe.execute()
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="re-stamping a late request in the shared requests window")

    def settle(self, *, actual_tokens: int) -> None:
        """Replace the estimate with the tokens the provider actually billed (either direction)."""
        item = self._tpm_item
        try:
            if item is None:
                if self._held and self.governor._redis is not None:
                    self._unsettled = actual_tokens
                    return
                item = self.governor._tpm_item()
                if item is None:
                    return
            self.governor._tpm_adjust(item=item, delta=actual_tokens - self.charged_tokens)
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="settling a request's tokens")  # the request itself is done
            return
        self._tpm_item = item
        self.charged_tokens = actual_tokens

    def refund_request(self) -> None:
        """The provider refused the request (429) without counting it: take it out of the shared
        requests window (on Redis, in the release's pipeline), so the window stays the provider's."""
        if self._held and self.governor._memory is None:
            self._commands_on_release.append(("ZREM", self.governor._rpm_key, self._token))

    def run_on_release(
        self,
        *,
        client: Redis | None,
        script: Script | None = None,
        keys: list[str] | None = None,
        args: list | None = None,
        commands: list[tuple] | None = None,
    ) -> bool:
        """Send a script (or plain commands) to `client` in the pipeline that releases the slot.

        False when that can't be done (memory backend, another Redis, slot already released): the
        caller then runs it itself. Errors are logged at release, not raised (the request is over).
        """
        own = self.governor._redis
        # Clients are per thread (django-redis); one connection pool means one server and database.
        if not self._held or client is None or own is None or client.connection_pool is not own.connection_pool:
            return False
        if script is not None:
            self._on_release.append((script, keys or [], args or []))
        self._commands_on_release.extend(commands or [])
        return True


class CallSlot:
    """One call's place in the shared budget: the one owner of its slot, from admission to release.

    Used around a whole call (`with CallSlot(governor) as call:`), it holds at most one slot
    (`SlotLease`) at a time and frees whatever it holds when the block ends, however it ends:

    - the cache read may take the first attempt's slot in its own round trip (`ADMIT`,
      llm/scripts.py): with `ahead` on a Redis governor, `cache.cache_get(call=...)` sends what
      `ask()` gives as the script's admission part and hands the reply's admission part to `receive`;
    - `with call.attempt(...) as lease:` is one provider request: the slot taken with the read, or a
      fresh admission; released when the block ends, with what rode on the lease (a cache store,
      the breaker's writes) in the release's pipeline. A retry backs off outside the block, holding
      no slot, and its attempt admits again;
    - `release()` lets go of a slot taken ahead and not used yet (a caller that must wait for the
      provider's probe first).
    """

    def __init__(self, governor: RateGovernor, *, gate: Gate | None = None, ahead: bool = False) -> None:
        self.governor = governor
        self.gate = gate  # read with a slot taken ahead (the breaker's closed state)
        self.ahead = ahead
        self._lease: SlotLease | None = None  # the slot held now
        # A slot taken ahead: the learned (rpm, tpm) read with it, for its attempt's rate check.
        self._learned: tuple[int | None, int | None] | None = None
        self._gate_shut = False  # the read found the gate shut: the next gated attempt is refused
        self._ahead_token = ""  # the token a read's admission part asked with

    def __enter__(self) -> CallSlot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    @property
    def holding(self) -> bool:
        """Is a slot held now (taken with the read, or an attempt in progress)?"""
        return self._lease is not None

    # --- the admission part of the cache read --------------------------------------------------

    def rides_with(self, client: Redis) -> bool:
        """May a script on `client` admit for this call? (Ahead, and the governor's own Redis.)"""
        own = self.governor._redis
        return self.ahead and self._lease is None and own is not None and client.connection_pool is own.connection_pool

    def ask(self) -> tuple[list[str], list]:
        """KEYS 4-9 and ARGV 3-8 of `ADMIT`: the admission part of a read (a new slot token each time)."""
        self._ahead_token = uuid.uuid4().hex
        _this_thread.asked_at = time.monotonic()  # the read's round trip begins now
        return self.governor._admit_keys(self.gate), self.governor._admit_args(self._ahead_token, self.gate)

    def receive(self, reply: list) -> None:
        """Take in the admission part of `ADMIT`'s reply (from its third item on)."""
        _paused_ms, learned_rpm, learned_tpm, taken, gate_open, count, _rpm_wait_ms = reply
        self._gate_shut = not gate_open
        if taken and self._ahead_token:
            lease = SlotLease(
                governor=self.governor,
                estimated_tokens=0,
                charged_tokens=0,
                waited_seconds=0.0,
                _token=self._ahead_token,
            )
            lease._held = True
            lease.gate_count = int(count) if self.gate is not None and self.gate.counter_key else None
            self._lease, self._learned = lease, (_as_int(learned_rpm), _as_int(learned_tpm))
        self._ahead_token = ""

    # --- attempts and release -------------------------------------------------------------------

    @contextmanager
    def attempt(
        self, *, estimated_tokens: int, deadline: float | None = None, gate: Gate | None = None
    ) -> Iterator[SlotLease]:
        """Hold a slot for one request: block (sleeping) until it fits the shared budget, raise
        RateBudgetTimeout past `deadline` (a `time.monotonic()` value); freed when the block exits.

        With a `gate` (Redis only), raise GateShut instead of admitting while the gate is shut.
        """
        governor = self.governor
        shut, self._gate_shut = self._gate_shut, False
        taken, learned = self._lease, self._learned
        self._lease = self._learned = None  # `_admit` owns a taken slot until it returns: it frees it if it fails
        if taken is None and shut and gate is not None:
            raise GateShut(gate.key)
        lease = None
        if not governor._redis_down():
            lease = governor._admit(estimated_tokens, deadline, gate, taken=taken, learned=learned)
        if lease is None:
            # Redis is away (a slot taken there expires with its lease): the process-local share,
            # and no gate to read (the caller asks the breaker instead: it has a memory fallback).
            if gate is not None:
                raise GateShut(gate.key)
            lease = governor._local()._admit(estimated_tokens, deadline, None)
            if lease is None:  # not reached: a memory governor needs no Redis
                raise RuntimeError(f"rate governor {governor.name}: no local slot")
        self._lease = lease
        outer, _this_thread.lease = _this_thread.lease, lease  # for `request_leaving`
        try:
            yield lease
        finally:
            _this_thread.lease = outer
            self.release()

    def release(self) -> None:
        """Free the slot held, if any (on Redis, with what rode on it, in one pipeline)."""
        lease, self._lease, self._learned = self._lease, None, None
        if lease is not None:
            lease._held = False
            lease.governor._release(lease=lease)


class _MemoryGovernorState:
    """One named governor in this process: in-flight count, pause deadline and learned limits."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.in_flight = 0
        self.pause_until = 0.0  # time.monotonic()
        self.learned: dict[str, int] = {}

    def reset(self) -> None:
        with self.cond:
            self.in_flight = 0
            self.pause_until = 0.0
            self.learned.clear()
            self.cond.notify_all()


_memory_states: dict[str, _MemoryGovernorState] = {}
_memory_lock = threading.Lock()
_memory_storage: MemoryStorage | None = None


def _shared_memory_storage() -> MemoryStorage:
    # One per process: each MemoryStorage runs its own expiry timer thread.
    global _memory_storage
    with _memory_lock:
        if _memory_storage is None:
            _memory_storage = MemoryStorage()
        return _memory_storage


def _memory_state(name: str) -> _MemoryGovernorState:
    with _memory_lock:
        return _memory_states.setdefault(name, _MemoryGovernorState())


class RateGovernor:
    """Shared RPM/TPM/concurrency budget for one provider account (`name`)."""

    def __init__(
        self,
        name: str,
        *,
        rpm: int | None,
        tpm: int | None,
        max_concurrency: int,
        redis: Redis | None | Literal["auto"] = "auto",
        lease_seconds: float = 300.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.name = name
        self.rpm = rpm or None  # 0 means "not configured": learn it from the provider
        self.tpm = tpm or None
        self.max_concurrency = max_concurrency
        # A crashed process's slot frees itself after this long; a request must not outlive it.
        self.lease_seconds = lease_seconds
        self._lease_ms = math.ceil(lease_seconds * 1000)
        client = redis_client() if redis == "auto" else redis
        self._redis: Redis | None = client
        self._memory: _MemoryGovernorState | None = None
        self._storage: RedisStorage | MemoryStorage
        if client is not None:
            self._storage = RedisStorage(
                "redis://", connection_pool=client.connection_pool, key_prefix=llm_key("limits")
            )
        else:
            self._storage = _shared_memory_storage()
            self._memory = _memory_state(name)
        self._requests = MovingWindowRateLimiter(self._storage)
        self._tokens = SlidingWindowCounterRateLimiter(self._storage)
        self._sem_key = llm_key("gov", name, "sem")
        self._pause_key = llm_key("gov", name, "pause")
        self._learned_key = llm_key("gov", name, "learned")
        self._rpm_key = llm_key("gov", name, "rpm")
        # Learned limits are divided by this before use (the stand-in's share while Redis is away).
        self._learned_share = 1
        # The stand-in while Redis is away (memory, a share of the limits), made when first needed;
        # and the learned (rpm, tpm) last read from Redis, to start it with.
        self._stand_in: RateGovernor | None = None
        self._stand_in_lock = threading.Lock()
        self._last_learned: tuple[int | None, int | None] = (None, None)

    @property
    def backend(self) -> str:
        """ "redis" while the shared budget is used; "memory" without Redis, or while it is away."""
        return "redis" if self._redis is not None and redis_available() else "memory"

    def _client(self) -> Redis:
        """The Redis client, on the paths only a Redis-backed governor takes."""
        if self._redis is None:
            raise RuntimeError(f"rate governor {self.name} is memory-backed")
        return self._redis

    def _state(self) -> _MemoryGovernorState:
        """The in-process state, on the paths only a memory-backed governor takes."""
        if self._memory is None:
            raise RuntimeError(f"rate governor {self.name} is Redis-backed")
        return self._memory

    def _local(self) -> RateGovernor:
        """The process-local stand-in for a Redis governor while Redis is away: a conservative share."""
        stand_in = self._stand_in
        if stand_in is None:
            with self._stand_in_lock:
                stand_in = self._stand_in
                if stand_in is None:
                    share = max(1, int(settings.LLM_REDIS_DOWN_PROCESS_SHARE))
                    stand_in = RateGovernor(
                        f"{self.name}@process",
                        rpm=max(1, self.rpm // share) if self.rpm else None,
                        tpm=max(1, self.tpm // share) if self.tpm else None,
                        max_concurrency=max(1, self.max_concurrency // share),
                        redis=None,
                        lease_seconds=self.lease_seconds,
                    )
                    stand_in._learned_share = share
                    self._stand_in = stand_in
        if stand_in._memory is not None and not stand_in._memory.learned:
            learned = dict(zip(("rpm", "tpm"), self._last_learned, strict=True))
            stand_in._store_learned(learned={key: value for key, value in learned.items() if value})
        return stand_in

    def _redis_down(self) -> bool:
        return self._redis is not None and not redis_available()

    @contextmanager
    def slot(
        self, *, estimated_tokens: int, deadline: float | None = None, gate: Gate | None = None
    ) -> Iterator[SlotLease]:
        """One request's slot, as `CallSlot.attempt` holds it (for a call of one attempt)."""
        with (
            CallSlot(self) as call,
            call.attempt(estimated_tokens=estimated_tokens, deadline=deadline, gate=gate) as lease,
        ):
            yield lease

    def _admit(
        self,
        estimated_tokens: int,
        deadline: float | None,
        gate: Gate | None,
        *,
        taken: SlotLease | None = None,
        learned: tuple[int | None, int | None] | None = None,
    ) -> SlotLease | None:
        """A held slot within the budget; None when Redis failed on the way (nothing held then).

        `taken`: the slot a cache read took (`CallSlot`), with the learned limits read with it.
        """
        started = time.monotonic()
        lease = taken
        if lease is None:
            lease = SlotLease(governor=self, estimated_tokens=estimated_tokens, charged_tokens=0, waited_seconds=0.0)
            try:
                learned, lease.gate_count = self._enter(token=lease._token, deadline=deadline, gate=gate)
            except REDIS_ERRORS as exc:
                redis_failed(exc, where="admission to the shared rate budget")
                return None
        lease.estimated_tokens = estimated_tokens
        if self._redis is not None and learned is not None:
            self._last_learned = learned
            rpm = self.rpm or learned[0]
            if rpm:  # `ADMIT` took a place in the requests window: `leaving` may move it
                lease._asked_at = _this_thread.asked_at
                lease._window_ms = rpm_window(rpm)[0] * 1000 + settings.OPENAI_RATE_TRANSIT_MS
        lease._held = True
        try:
            lease._tpm_item, lease.charged_tokens = self._acquire_rate(
                estimated_tokens=estimated_tokens, deadline=deadline, learned=learned
            )
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="the shared RPM/TPM budget")
            lease._held = False
            self._release(lease=lease)
            return None
        except BaseException:
            lease._held = False
            self._release(lease=lease)
            raise
        lease.waited_seconds = time.monotonic() - started
        LIMITER_WAIT_SECONDS.observe(lease.waited_seconds)
        return lease

    def pause(self, *, seconds: float) -> None:
        """Stop every process from sending for `seconds` (after a 429); never shortens a longer pause."""
        if seconds <= 0:
            return
        if self._memory is not None:
            with self._memory.cond:
                self._memory.pause_until = max(self._memory.pause_until, time.monotonic() + seconds)
            return
        if not self._redis_down():
            try:
                # Pauses only ever get longer, whoever sets them: create it, or lengthen it (GT).
                pause_ms = math.ceil(seconds * 1000)
                pipe = self._client().pipeline(transaction=False)
                pipe.set(self._pause_key, "1", px=pause_ms, nx=True)
                pipe.pexpire(self._pause_key, pause_ms, gt=True)
                pipe.execute()
                return
            except REDIS_ERRORS as exc:
                redis_failed(exc, where="pausing the shared rate budget")
        self._local().pause(seconds=seconds)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Learn the provider's limits from `x-ratelimit-*`, and pause everyone when a budget this
        governor does not pace itself is exhausted.

        A budget it paces (configured, or its limit known from these headers) at "remaining 0" is
        only full, as it is every window at full speed: its moving window already holds the next
        request until one leaves. Pausing then for the reset (the time until the *whole* window
        empties, ~1 s at 600 RPM) idled every process for a whole second every few seconds.
        A refusal (429) still pauses everyone, for its exact retry-after (llm/resilience.py).
        """
        # httpx's headers look up case-insensitively; a plain dict is lowered first.
        get = {key.lower(): value for key, value in headers.items()}.get if isinstance(headers, dict) else headers.get
        learned: dict[str, int] = {}
        pause = 0.0
        for kind, field_name, configured in (("requests", "rpm", self.rpm), ("tokens", "tpm", self.tpm)):
            limit = _as_int(get(f"x-ratelimit-limit-{kind}"))
            if limit is not None and limit > 0:
                learned[field_name] = limit
            remaining = _as_int(get(f"x-ratelimit-remaining-{kind}"))
            paced = bool(configured) or field_name in learned
            if remaining is not None and remaining <= 0 and not paced:
                pause = max(pause, parse_reset_duration(get(f"x-ratelimit-reset-{kind}")) or 0.0)
        if learned:
            self._store_learned(learned=learned)
        if pause > 0:
            logger.info("rate governor %s: provider budget exhausted, pausing %.2fs", self.name, pause)
            self.pause(seconds=pause)

    def effective_limits(self) -> dict:
        """The limits in force now, where they come from, and the live pause and in-flight count."""
        if self._redis_down():
            return self._local().effective_limits()
        try:
            paused_for, learned_rpm, learned_tpm = self._shared_view()
            in_flight = self._in_flight()
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="reading the shared rate budget")
            return self._local().effective_limits()
        rpm = self.rpm or learned_rpm
        tpm = self.tpm or learned_tpm
        window_seconds, window_requests = rpm_window(rpm) if rpm else (None, None)
        return {
            "backend": self.backend,
            "rpm": rpm,
            "rpm_source": _source(configured=self.rpm, learned=learned_rpm),
            "rpm_window_seconds": window_seconds,
            "rpm_window_requests": window_requests,
            "tpm": tpm,
            "tpm_source": _source(configured=self.tpm, learned=learned_tpm),
            "learned_rpm": learned_rpm,
            "learned_tpm": learned_tpm,
            "max_concurrency": self.max_concurrency,
            "in_flight": in_flight,
            "paused_for": paused_for,
        }

    # --- admission ------------------------------------------------------------------------------

    def _admit_keys(self, gate: Gate | None) -> list[str]:
        """KEYS 4-9 of `ADMIT` (llm/scripts.py): pause, learned limits, semaphore, gate, gate
        counter, requests window."""
        return [
            self._pause_key,
            self._learned_key,
            self._sem_key,
            gate.key if gate else "",
            gate.counter_key if gate else "",
            self._rpm_key,
        ]

    def _admit_args(self, token: str, gate: Gate | None) -> list:
        """ARGV 3-8 of `ADMIT`: slot token, max holders, lease ms, the gate's open value, the
        configured RPM (0: learned), the transit allowance ms."""
        return [
            token,
            self.max_concurrency,
            self._lease_ms,
            gate.open_value if gate else "",
            self.rpm or 0,
            settings.OPENAI_RATE_TRANSIT_MS,
        ]

    def _enter(
        self, *, token: str, deadline: float | None, gate: Gate | None = None
    ) -> tuple[tuple[int | None, int | None] | None, int | None]:
        """Wait out any pause and take a concurrency slot; returns the learned (rpm, tpm) read on the
        way (None in memory, where the view is free: read it later) and the gate's counter.

        On Redis that is one round trip (`ADMIT` without its cache part) per try.
        """
        if self._memory is not None:
            if gate is not None:
                raise ValueError("a gate is a Redis key: the memory backend has none to read")
            self._wait_while_paused(deadline=deadline)
            self._acquire_concurrency(token=token, deadline=deadline)
            return None, None
        delay = _POLL_MIN
        keys = ["", "", "", *self._admit_keys(gate)]
        args: list = ["", 0, *self._admit_args(token, gate)]
        client = self._client()
        while True:
            _this_thread.asked_at = time.monotonic()
            reply = run_script(client, ADMIT, keys=keys, args=args)
            paused_ms, learned_rpm, learned_tpm, taken, gate_open, count, rpm_wait_ms = reply[2:]
            if not gate_open:
                raise GateShut(gate.key if gate else "")
            if taken:
                counted = int(count) if gate is not None and gate.counter_key else None
                return (_as_int(learned_rpm), _as_int(learned_tpm)), counted
            if paused_ms > 0:
                self._sleep(seconds=paused_ms / 1000, deadline=deadline, why="paused after a provider rate limit")
                continue
            if rpm_wait_ms > 0:
                # Exactly until the window's oldest request leaves it (no slot is held meanwhile).
                self._sleep(seconds=rpm_wait_ms / 1000, deadline=deadline, why="RPM")
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise RateBudgetTimeout(f"{self.name}: no concurrency slot before the deadline")
            # Slots free up in other processes; polling with backoff keeps Redis load low.
            time.sleep(min(delay, remaining) if remaining is not None else delay)
            delay = min(delay * 2, _POLL_MAX)

    def _wait_while_paused(self, *, deadline: float | None) -> None:
        while (paused_for := self._shared_view()[0]) > 0:
            self._sleep(seconds=paused_for, deadline=deadline, why="paused after a provider rate limit")

    def _acquire_rate(
        self, *, estimated_tokens: int, deadline: float | None, learned: tuple[int | None, int | None] | None = None
    ) -> tuple[RateLimitItem | None, int]:
        """Take one request and the estimated tokens; returns the TPM item and tokens charged.

        `learned` is the (rpm, tpm) view read while admitting (no pause then); later tries re-read it.
        """
        while True:
            if learned is not None:
                (learned_rpm, learned_tpm), learned = learned, None
            else:
                paused_for, learned_rpm, learned_tpm = self._shared_view()
                if paused_for > 0:
                    self._sleep(seconds=paused_for, deadline=deadline, why="paused after a provider rate limit")
                    continue
            # On Redis the request was counted in its requests window by `ADMIT`, with the slot
            # (it stays counted while tokens are waited for: a rare case, under a TPM limit).
            requests_item = _requests_item(self.rpm or learned_rpm) if self._memory is not None else None
            tokens_item = _tokens_item(self.tpm or learned_tpm)
            if requests_item is None and tokens_item is None:
                return None, 0
            # A request bigger than the whole budget can only go when the window is empty; the
            # provider then decides. Charging more would make it wait forever.
            cost = min(max(estimated_tokens, 0), tokens_item.amount) if tokens_item else 0
            # Tokens first: they can be handed back exactly if the request slot is then refused.
            if tokens_item is not None and cost and not self._tokens.hit(tokens_item, self.name, cost=cost):
                self._sleep(seconds=self._tokens_wait(item=tokens_item, cost=cost), deadline=deadline, why="TPM")
                continue
            if requests_item and not self._requests.hit(requests_item, self.name):
                if tokens_item is not None and cost:
                    self._tpm_adjust(item=tokens_item, delta=-cost)
                self._sleep(seconds=self._requests_wait(item=requests_item), deadline=deadline, why="RPM")
                continue
            return tokens_item, cost

    def _requests_wait(self, *, item: RateLimitItem) -> float:
        # The moving window frees a request when its oldest entry leaves the window.
        reset_at = self._requests.get_window_stats(item, self.name).reset_time
        return max(reset_at - time.time(), _RETRY_DELAY)

    def _tokens_wait(self, *, item: RateLimitItem, cost: int) -> float:
        """Seconds until the sliding-window count (previous window weighted by its remaining share) fits `cost`."""
        limit, expiry = item.amount, item.get_expiry()
        previous, previous_ttl, current, current_ttl = self._storage.get_sliding_window(item.key_for(self.name), expiry)
        room = limit - cost
        if current > room:
            # The current window alone is too full: wait until it becomes the previous one and decays.
            until_rotation = max(current_ttl - expiry, 0.0)
            return until_rotation + expiry - room * expiry / current + _RETRY_DELAY
        if previous <= 0:
            return _RETRY_DELAY
        allowed_previous_ttl = (room - current) * expiry / previous
        return max(previous_ttl - allowed_previous_ttl, 0.0) + _RETRY_DELAY

    def _tpm_item(self) -> RateLimitItem | None:
        return _tokens_item(self.tpm or self._shared_view()[2])

    def _tpm_adjust(self, *, item: RateLimitItem, delta: int) -> None:
        """Add (forced, even past the limit: the tokens were spent) or hand back tokens in the TPM window."""
        key, expiry = item.key_for(self.name), item.get_expiry()
        if delta < 0:
            # Never below zero: the charge may already have slid into the previous window.
            current = self._storage.get_sliding_window(key, expiry)[2]
            delta = -min(-delta, current)
        if delta:
            self._storage.acquire_sliding_window_entry(key, _UNBOUNDED, expiry, delta)

    def _sleep(self, *, seconds: float, deadline: float | None, why: str) -> None:
        if deadline is not None and time.monotonic() + seconds > deadline:
            raise RateBudgetTimeout(
                f"{self.name}: the request would not fit the shared budget ({why}) before its deadline",
                retry_after=seconds,
            )
        # A little jitter so processes woken by the same event don't all collide on the same budget unit.
        time.sleep(min(seconds, _MAX_SLEEP) + random.uniform(0, 0.002))

    # --- concurrency ----------------------------------------------------------------------------

    def _acquire_concurrency(self, *, token: str, deadline: float | None) -> None:
        """In memory only: on Redis `_enter` takes the slot with the rest of the admission."""
        state = self._state()
        with state.cond:
            while state.in_flight >= self.max_concurrency:
                timeout = None if deadline is None else deadline - time.monotonic()
                if timeout is not None and timeout <= 0:
                    raise RateBudgetTimeout(f"{self.name}: no concurrency slot before the deadline")
                state.cond.wait(timeout=timeout)
            state.in_flight += 1

    def _release(self, *, lease: SlotLease) -> None:
        """Free the slot. On Redis, in the same round trip: run what `run_on_release` queued, and look
        for a TPM limit learned meanwhile to charge tokens settled while none was known."""
        if self._memory is not None:
            with self._memory.cond:
                self._memory.in_flight = max(self._memory.in_flight - 1, 0)
                self._memory.cond.notify()
            return
        if self._redis_down():
            return  # the lease expires on its own; what rode on the release (a cache store) is skipped
        unsettled, lease._unsettled = lease._unsettled, None
        queued, lease._on_release = lease._on_release, []
        commands, lease._commands_on_release = lease._commands_on_release, []
        learned_tpm = None
        try:
            if unsettled or queued or commands:
                pipe = self._client().pipeline(transaction=False)
                pipe.zrem(self._sem_key, lease._token)
                for script, keys, args in queued:
                    # By hash, without the SCRIPT EXISTS a pipeline of registered scripts sends
                    # first; the source follows only if Redis lacks it.
                    pipe.evalsha(script.sha, len(keys), *keys, *args)
                for command in commands:
                    pipe.execute_command(*command)
                if unsettled:
                    # Another process may have learned a TPM limit while this request was in flight.
                    pipe.hget(self._learned_key, "tpm")
                replies = pipe.execute(raise_on_error=False)
                replies[1 : 1 + len(queued)] = self._rerun_unknown_scripts(
                    queued=queued, replies=replies[1 : 1 + len(queued)]
                )
                errors = [reply for reply in replies if isinstance(reply, RedisError)]
                if errors:
                    raise errors[0]
                learned_tpm = _as_int(replies[-1]) if unsettled else None
            else:
                self._client().zrem(self._sem_key, lease._token)
        except REDIS_ERRORS as exc:
            # Raising here would hide the request's own outcome; the lease expires on its own.
            redis_failed(exc, where="releasing a rate-budget slot")
            return
        except RedisError:
            # Raising here would hide the request's own outcome; the lease expires on its own.
            logger.exception("rate governor %s: could not release a lease (or run what went with it)", self.name)
        if not unsettled or not learned_tpm:
            return
        item = _tokens_item(learned_tpm)
        if item is None:  # not reached: learned_tpm is a limit
            return
        try:
            self._tpm_adjust(item=item, delta=unsettled - lease.charged_tokens)
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="charging a request's tokens")
            return
        except RedisError:
            logger.exception("rate governor %s: could not charge %d tokens", self.name, unsettled)
            return
        lease._tpm_item, lease.charged_tokens = item, unsettled

    def _rerun_unknown_scripts(self, *, queued: list[tuple[Script, list[str], list]], replies: list) -> list:
        """The scripts' replies, after sending again, with their source, those Redis did not know
        (it restarted, or its scripts were flushed)."""
        unknown = [index for index, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if not unknown:
            return replies
        pipe = self._client().pipeline(transaction=False)
        for index in unknown:
            script, keys, args = queued[index]
            pipe.eval(script.source, len(keys), *keys, *args)
        replies = list(replies)
        for index, reply in zip(unknown, pipe.execute(raise_on_error=False), strict=True):
            replies[index] = reply
        return replies

    def _in_flight(self) -> int:
        if self._memory is not None:
            with self._memory.cond:
                return self._memory.in_flight
        client = self._client()
        seconds, micros = client.time()  # the semaphore's clock: Redis's, as `ADMIT` stamps leases
        return int(client.zcount(self._sem_key, seconds * 1000 + micros // 1000, "+inf"))

    # --- shared state ---------------------------------------------------------------------------

    def _shared_view(self) -> tuple[float, int | None, int | None]:
        """(seconds paused, learned rpm, learned tpm) in one round trip."""
        if self._memory is not None:
            with self._memory.cond:
                paused_for = max(self._memory.pause_until - time.monotonic(), 0.0)
                return paused_for, self._memory.learned.get("rpm"), self._memory.learned.get("tpm")
        if self._redis_down():
            return self._local()._shared_view()
        pipe = self._client().pipeline(transaction=False)
        pipe.pttl(self._pause_key)
        pipe.hmget(self._learned_key, "rpm", "tpm")
        pause_ms, (learned_rpm, learned_tpm) = pipe.execute()
        return max(pause_ms, 0) / 1000, _as_int(learned_rpm), _as_int(learned_tpm)

    def _store_learned(self, *, learned: dict[str, int]) -> None:
        if self._memory is not None:
            share = self._learned_share
            with self._memory.cond:
                self._memory.learned.update({key: max(1, value // share) for key, value in learned.items()})
            return
        if not self._redis_down():
            try:
                pipe = self._client().pipeline(transaction=False)
                pipe.hset(self._learned_key, mapping=learned)  # type: ignore[arg-type]  # str keys are fine
                # Re-learned on every response; the expiry only drops limits of an account no longer used.
                pipe.expire(self._learned_key, _LEARNED_TTL)
                pipe.execute()
                return
            except REDIS_ERRORS as exc:
                redis_failed(exc, where="storing learned rate limits")
        self._local()._store_learned(learned=learned)


def _requests_item(rpm: int | None) -> RateLimitItem | None:
    if not rpm:
        return None
    seconds, requests = rpm_window(rpm)
    return RateLimitItemPerSecond(requests, seconds, namespace="rpm")


def _tokens_item(tpm: int | None) -> RateLimitItem | None:
    # A full minute, unlike requests: one large prompt can exceed a per-second share of the TPM.
    return RateLimitItemPerMinute(tpm, 1, namespace="tpm") if tpm else None


def _as_int(value: str | bytes | int | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _source(*, configured: int | None, learned: int | None) -> str | None:
    if configured:
        return "configured"
    return "learned" if learned else None


_governors: dict[str, RateGovernor] = {}
_governors_lock = threading.Lock()


def get_governor(name: str = "default") -> RateGovernor:
    """The process's governor for `name` from OPENAI_RATE_LIMIT_RPM/TPM and OPENAI_MAX_CONCURRENT_REQUESTS."""
    governor = _governors.get(name)
    if governor is None:
        with _governors_lock:
            governor = _governors.get(name)
            if governor is None:
                governor = RateGovernor(
                    name,
                    rpm=settings.OPENAI_RATE_LIMIT_RPM or None,
                    tpm=settings.OPENAI_RATE_LIMIT_TPM or None,
                    max_concurrency=settings.OPENAI_MAX_CONCURRENT_REQUESTS,
                    # Room for one request at its full timeouts, twice over, before a dead holder's slot frees.
                    lease_seconds=2 * (settings.OPENAI_REQUEST_TIMEOUT + settings.OPENAI_CONNECTION_TIMEOUT),
                )
                _governors[name] = governor
    return governor


def _reset_memory_state() -> None:
    with _governors_lock:
        _governors.clear()
    with _memory_lock:
        states = list(_memory_states.values())
        storage = _memory_storage
    for state in states:
        state.reset()
    if storage is not None:
        storage.reset()


register_memory_reset(_reset_memory_state)
