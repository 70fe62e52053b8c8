"""The resilient call loop shared by task runs and conversations.

breaker → shared rate budget → send → classify → (re-ask once on bad output | back off and retry
what can clear | open the breaker on quota/auth) — every attempt counted on the call's record.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from pydantic import BaseModel

from llm.breaker import get_breaker
from llm.errors import PROVIDER_ERRORS, Classified, ErrorKind, classify
from llm.ledger import CallRecord
from llm.limits import RateBudgetTimeout, get_governor
from llm.models import LLMCall
from llm.providers import ProviderConfig

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
    label: str = "",
) -> tuple[Answer | None, Classified | None]:
    """Send until an acceptable answer or a final error; returns exactly one of the two."""
    breaker = get_breaker(config.name)
    governor = get_governor(config.name)
    deadline = deadline if deadline is not None else time.monotonic() + config.request_timeout * 3
    reasked = False
    failures = 0  # retryable provider failures so far

    while True:
        if not breaker.allow():
            return None, _simple(ErrorKind.CIRCUIT_OPEN, "The circuit breaker is open; provider calls are paused.")
        answer: Answer | None = None
        try:
            with governor.slot(estimated_tokens=estimate, deadline=deadline) as lease:
                record.attempts += 1
                try:
                    answer = send()
                except PROVIDER_ERRORS as exc:
                    error = classify(exc)
                    lease.settle(actual_tokens=0)
                else:
                    lease.settle(actual_tokens=answer.tokens_in + answer.tokens_out)
        except RateBudgetTimeout as exc:
            return None, _simple(ErrorKind.RATE_BUDGET, exc.message)

        if answer is not None:
            governor.observe_headers(answer.headers)
            breaker.record_success()
            record.tokens_in += answer.tokens_in
            record.tokens_out += answer.tokens_out
            record.request_id = answer.request_id
            problems = check(answer) if check is not None else []
            if not problems:
                record.status = LLMCall.Status.SUCCEEDED
                return answer, None
            error = _simple(ErrorKind.QUALITY, "; ".join(problems)[:500])

        _count(record, error)
        if error.kind in (ErrorKind.SCHEMA, ErrorKind.QUALITY) and reask is not None and not reasked:
            reasked = True
            reask(error.message, answer)
            continue
        if error.opens_breaker:
            breaker.record_failure(force_open=True)
            logger.error("LLM provider %s refuses calls (%s); circuit opened", config.name, error.kind)
            return None, error
        if error.retryable:
            failures += 1
            wait_s = backoff_seconds(attempt=failures, retry_after=error.retry_after)
            if error.kind == ErrorKind.RATE_LIMIT:
                governor.pause(seconds=wait_s)
            if failures < settings.OPENAI_MAX_RETRY_ATTEMPTS and time.monotonic() + wait_s < deadline:
                logger.info("LLM %s attempt %d failed (%s); retrying in %.2fs", label, record.attempts, error.kind, wait_s)
                time.sleep(wait_s)
                continue
        if error.counts_against_provider:
            breaker.record_failure()
        return None, error


def _count(record: CallRecord, error: Classified) -> None:
    if error.kind == ErrorKind.RATE_LIMIT:
        record.rate_limit_errors += 1
    elif error.kind == ErrorKind.TIMEOUT:
        record.timeout_errors += 1
    else:
        record.api_errors += 1
