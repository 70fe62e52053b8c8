"""The resilient call loop shared by task runs and conversations.

breaker → shared rate budget → send → classify → (re-ask once on bad output | back off and retry
what can clear | open the breaker on quota/auth) — every attempt counted on the call's record,
with the tokens of every response the provider billed (unusable ones too: refusals, truncations,
invalid answers; an error response or a timeout bills nothing).

The rate-governor slot of each attempt is held through the call's `limits.CallSlot` (`call_slot`),
which owns it from admission (possibly in the cache read's round trip) to release: an attempt is
`with call.attempt(...)`, so a retry backs off holding no slot.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from pydantic import BaseModel

from llm.breaker import Breaker, get_breaker
from llm.errors import PROVIDER_ERRORS, Classified, ErrorKind, Usage, billed_usage, classify
from llm.ledger import CallRecord
from llm.limits import CallSlot, GateShut, RateBudgetTimeout, SlotLease, get_governor
from llm.models import LLMCall
from llm.providers import ProviderConfig
from llm.redis import REDIS_ERRORS, redis_available, redis_client, redis_failed, register_memory_reset

logger = logging.getLogger("contentops.llm")


@dataclass(frozen=True)
class Answer:
    """One successful provider response, parsed."""

    output: BaseModel | None
    tokens_in: int
    tokens_out: int
    headers: Any
    request_id: str
    text: str = ""
    response_id: str = ""
    tokens_cached: int = 0  # of tokens_in, served from the provider's prompt cache

    @property
    def usage(self) -> Usage:
        return Usage(tokens_in=self.tokens_in, tokens_cached=self.tokens_cached, tokens_out=self.tokens_out)


def backoff_seconds(*, attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter; the provider's retry-after wins when it gave one."""
    if retry_after is not None:
        # A little jitter so that workers told the same moment do not stampede together.
        return retry_after + random.uniform(0, min(1.0, retry_after * 0.1))
    base = min(
        settings.OPENAI_RETRY_MAX_WAIT,
        settings.OPENAI_RETRY_MIN_WAIT * settings.OPENAI_RETRY_MULTIPLIER ** (attempt - 1),
    )
    return random.uniform(base / 2, base)


# Until a provider has answered once (recently), a single caller probes it while the others wait:
# a dead key or an empty quota then costs one call, not one per worker, and the first answer's
# x-ratelimit-* headers are learned before everyone starts sending.
VERIFIED_TTL_S = 300.0
_verified_until: dict[str, float] = {}
# Where the probe is claimed while Redis is away: one probe per process then (monotonic deadlines).
_local_probes: dict[str, float] = {}
_local_probes_lock = threading.Lock()
# Poll interval while waiting for a half-open breaker's trial to end.
TRIAL_POLL_S = 0.05


def _verified_key(config: ProviderConfig) -> str:
    return f"llm:verified:{config.name}"


def _probe_key(config: ProviderConfig) -> str:
    return f"llm:probe:{config.name}"


def _shared() -> bool:
    """Is the Django cache (the probe and "verified" marks) usable? Memory caches always are."""
    return redis_client() is None or redis_available()


def _mark_verified(config: ProviderConfig) -> None:
    if _verified_until.get(config.name, 0.0) < time.monotonic() + VERIFIED_TTL_S / 2:
        if _shared():
            try:
                cache.set(_verified_key(config), True, VERIFIED_TTL_S)
            except REDIS_ERRORS as exc:
                redis_failed(exc, where="marking the provider verified")
        _verified_until[config.name] = time.monotonic() + VERIFIED_TTL_S


def _forget_provider_verified(config: ProviderConfig) -> None:
    _verified_until.pop(config.name, None)
    if _shared():
        try:
            cache.delete(_verified_key(config))
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="forgetting the provider verified")


def _verified_elsewhere(config: ProviderConfig) -> bool:
    if not _shared():
        return False
    try:
        return bool(cache.get(_verified_key(config)))
    except REDIS_ERRORS as exc:
        redis_failed(exc, where="reading whether the provider answers")
        return False


def _claim_probe(config: ProviderConfig) -> bool:
    """Become the provider's probe: across processes through the cache, in this process while Redis is away."""
    if _shared():
        try:
            return bool(cache.add(_probe_key(config), True, config.request_timeout + config.connect_timeout))
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="claiming the provider probe")
    now = time.monotonic()
    with _local_probes_lock:
        if _local_probes.get(config.name, 0.0) > now:
            return False
        _local_probes[config.name] = now + config.request_timeout + config.connect_timeout
        return True


def _release_probe(config: ProviderConfig) -> None:
    with _local_probes_lock:
        _local_probes.pop(config.name, None)
    if _shared():
        try:
            cache.delete(_probe_key(config))
        except REDIS_ERRORS as exc:
            redis_failed(exc, where="releasing the provider probe")


def _verified_here(config: ProviderConfig) -> bool:
    return _verified_until.get(config.name, 0.0) > time.monotonic()


def call_slot(*, config: ProviderConfig) -> CallSlot:
    """The seam of one call with the shared budget (`limits.CallSlot`): use it as `with call_slot(...)
    as call:` around the cache read and `resilient_call(call=call)`, which frees its slot at the end.

    On Redis, for a provider known to answer, the cache read admits ahead (its miss takes the first
    attempt's slot, with the breaker's closed state); else the first attempt admits (a provider not
    known to answer is probed first, and no one waits for the probe holding a slot).
    """
    governor = get_governor(config.name)
    ahead = governor.backend == "redis" and _verified_here(config)
    return CallSlot(governor, gate=get_breaker(config.name).closed_gate if ahead else None, ahead=ahead)


def _enter_gate(config: ProviderConfig, breaker: Any, deadline: float, call: CallSlot | None = None) -> bool:
    """Wait until the provider is known to answer, or become its probe; True when we are the probe.

    A slot taken ahead (by the `call`'s cache read) is let go before anything else: no one waits
    holding one.
    """
    if _verified_here(config):
        return False
    if call is not None:
        call.release()
    while True:
        if _verified_elsewhere(config):
            _verified_until[config.name] = time.monotonic() + VERIFIED_TTL_S / 2
            return False
        if _claim_probe(config):
            return True
        if breaker.state == "open" or time.monotonic() > deadline:
            return False  # the probe failed for good (or we waited enough): the breaker decides
        time.sleep(0.02)


def _forget_verified() -> None:
    _verified_until.clear()
    with _local_probes_lock:
        _local_probes.clear()


register_memory_reset(_forget_verified)


def _simple(kind: ErrorKind, message: str) -> Classified:
    return Classified(kind, False, False, None, None, message)


def resilient_call(
    *,
    config: ProviderConfig,
    record: CallRecord,
    estimate: int,
    deadline: float | None,
    send: Callable[[], Answer],
    check: Callable[[Answer], list[str]] | None = None,
    reask: Callable[[str, Answer | None], None] | None = None,
    accept: Callable[[Answer, SlotLease], None] | None = None,
    label: str = "",
    call: CallSlot | None = None,
    wait_for_trial: bool = False,
) -> tuple[Answer | None, Classified | None]:
    """Send until an acceptable answer or a final error; returns exactly one of the two.

    `accept` sees the acceptable answer while its rate-governor slot is still held: what it hands
    to `lease.run_on_release` (a cache store, say) rides on the round trip that frees the slot.
    Every attempt holds its slot through the `call` (`call_slot`; one of its own if none is given):
    the first one in the slot the call's cache read took, if it took one; each is freed when its
    attempt ends, so a retry backs off holding none. Whoever made the `call` frees what is left.
    `wait_for_trial` (background work): while the breaker half-opens, wait until its trial ends
    (closed: go; open again: "circuit open") instead of answering "circuit open" at once.
    """
    breaker = get_breaker(config.name)
    governor = get_governor(config.name)
    if call is None:
        call = CallSlot(governor)  # holds a slot only inside an attempt, which frees it
    if deadline is None:
        # Room for every attempt to time out and back off fully, plus waiting for rate budget.
        attempts = settings.OPENAI_MAX_RETRY_ATTEMPTS + 1
        deadline = time.monotonic() + attempts * (config.request_timeout + settings.OPENAI_RETRY_MAX_WAIT)
    reasked = False
    failures = 0  # retryable provider failures so far

    while True:
        probe = _enter_gate(config, breaker, deadline, call)
        try:
            answer, problems, error = _attempt(
                breaker,
                call,
                record=record,
                estimate=estimate,
                deadline=deadline,
                send=send,
                check=check,
                accept=accept,
            )
            if answer is not None:
                if probe:
                    _mark_verified(config)
                governor.observe_headers(answer.headers)
                record.request_id = answer.request_id
                if not problems:
                    record.status = LLMCall.Status.SUCCEEDED
                    return answer, None
                error = _simple(ErrorKind.QUALITY, "; ".join(problems)[:500])
            if error is None:  # not reached: an attempt without an answer says why
                raise RuntimeError(f"LLM {label}: an attempt returned neither an answer nor an error")
            if error.kind == ErrorKind.CIRCUIT_OPEN and wait_for_trial and _trial_running(breaker, deadline):
                time.sleep(TRIAL_POLL_S)
                continue  # nothing was sent; look again once the trial may have ended
            if error.kind in (ErrorKind.CIRCUIT_OPEN, ErrorKind.RATE_BUDGET):
                return None, error  # nothing was sent

            _count(record, error)
            if error.kind in (ErrorKind.SCHEMA, ErrorKind.QUALITY) and reask is not None and not reasked:
                reasked = True
                reask(error.message, answer)
                continue
            if error.opens_breaker:
                breaker.record_failure(force_open=True)
                _forget_provider_verified(config)
                logger.error("LLM provider %s refuses calls (%s); circuit opened", config.name, error.kind)
                return None, error
            if error.retryable:
                failures += 1
                wait_s = backoff_seconds(attempt=failures, retry_after=error.retry_after)
                if error.kind == ErrorKind.RATE_LIMIT:
                    governor.pause(seconds=wait_s)
                if failures < settings.OPENAI_MAX_RETRY_ATTEMPTS and time.monotonic() + wait_s < deadline:
                    logger.info(
                        "LLM %s attempt %d failed (%s); retrying in %.2fs", label, record.attempts, error.kind, wait_s
                    )
                    time.sleep(wait_s)
                    continue
            if error.counts_against_provider:
                breaker.record_failure()
            return None, error
        finally:
            # Only now, after the probe's retries and with the breaker told: a waiting caller must
            # neither race those retries nor probe a provider that has just refused.
            if probe:
                _release_probe(config)


def _attempt(
    breaker: Breaker,
    call: CallSlot,
    *,
    record: CallRecord,
    estimate: int,
    deadline: float,
    send: Callable[[], Answer],
    check: Callable[[Answer], list[str]] | None,
    accept: Callable[[Answer, SlotLease], None] | None,
) -> tuple[Answer | None, list[str], Classified | None]:
    """One admitted request: (answer, its quality problems, None) or (None, [], why nothing came back)."""
    try:
        with _admitted(breaker, call, estimate=estimate, deadline=deadline) as lease:
            if lease is None:
                return (
                    None,
                    [],
                    _simple(ErrorKind.CIRCUIT_OPEN, "The circuit breaker is open; provider calls are paused."),
                )
            record.attempts += 1
            try:
                answer = send()
            except PROVIDER_ERRORS as exc:
                # A response that came back unusable (refused, cut off, invalid) was billed all the same.
                usage = billed_usage(exc)
                record.add_usage(usage)
                lease.settle(actual_tokens=usage.total if usage is not None else 0)
                error = classify(exc)
                if error.kind == ErrorKind.RATE_LIMIT:
                    lease.refund_request()
                if not error.counts_against_provider:
                    # The provider answered (badly): it is up, and a half-open trial has its outcome.
                    breaker.record_success(lease=lease)
                return None, [], error
            record.add_usage(answer.usage)
            lease.settle(actual_tokens=answer.tokens_in + answer.tokens_out)
            # On Redis this and what `accept` queues ride on the round trip that releases the slot.
            breaker.record_success(lease=lease)
            problems = check(answer) if check is not None else []
            if not problems and accept is not None:
                accept(answer, lease)
            return answer, problems, None
    except RateBudgetTimeout as exc:
        return None, [], _simple(ErrorKind.RATE_BUDGET, exc.message)


@contextmanager
def _admitted(breaker: Breaker, call: CallSlot, *, estimate: int, deadline: float) -> Iterator[SlotLease | None]:
    """The call's slot for one attempt if the circuit lets the request out, else None.

    On Redis the breaker's state is read in the slot's admission round trip (its closed gate, which
    a slot taken with the cache read had read too); only when the circuit is not closed does the
    breaker decide (this caller may be the half-open trial).
    """
    gate = breaker.closed_gate if call.governor.backend == "redis" else None
    if gate is not None:
        try:
            with call.attempt(estimated_tokens=estimate, deadline=deadline, gate=gate) as lease:
                yield lease
            return
        except GateShut:
            pass  # raised on admission, before any slot was taken
    if not breaker.allow():
        yield None
        return
    with call.attempt(estimated_tokens=estimate, deadline=deadline) as lease:
        yield lease


def _trial_running(breaker: Breaker, deadline: float) -> bool:
    """Is the breaker's trial out (or just claimed, or just ended well), with time left to wait for
    it? A caller refused while another took the trial must not give up because the trial closed the
    circuit in between. (A trial whose caller died ends with its lease: a waiting caller then becomes
    the next trial.)"""
    return breaker.may_let_through_soon and time.monotonic() + TRIAL_POLL_S < deadline


def _count(record: CallRecord, error: Classified) -> None:
    if error.kind == ErrorKind.RATE_LIMIT:
        record.rate_limit_errors += 1
    elif error.kind == ErrorKind.TIMEOUT:
        record.timeout_errors += 1
    else:
        record.api_errors += 1
