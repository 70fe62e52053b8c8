"""Running a task for an API request: a flagged fallback, or (when the caller wants none) the
provider's failure as seed 001 maps it: rate limit → 429 with Retry-After, outage → 503.

The runtime always answers (DESIGN.md §4: fallback is for a person who is waiting); this boundary
decides whether that person wants the fallback. `fallback=false` on the request, or the setting
`LLM_FALLBACK_FOR_REQUESTS=false`, turns a fallback caused by the provider into an error instead.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings

from config.errors import DomainError
from llm.errors import Classified, ErrorKind, LLMRateLimitedError, LLMUnavailableError
from llm.runtime import LLMResult, run
from llm.task import InT, LLMTask, OutT

# The provider (or our shared budget for it) says "not now": the caller may try again later.
RATE_LIMITED = frozenset({ErrorKind.RATE_LIMIT, ErrorKind.RATE_BUDGET})
# The provider cannot serve anyone right now: down, refusing our account, or the breaker is open.
UNAVAILABLE = frozenset(
    {
        ErrorKind.SERVER,
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION,
        ErrorKind.CONFLICT,
        ErrorKind.CIRCUIT_OPEN,
        ErrorKind.QUOTA,
        ErrorKind.AUTH,
        ErrorKind.OFFLINE,
    }
)


class ProviderRateLimited(LLMRateLimitedError):
    """429: the provider's rate limit outlasted our retries; `retry_after` becomes Retry-After."""

    code = "llm_rate_limited"


class ProviderUnavailable(LLMUnavailableError):
    """503: the provider is down or refusing calls, or the breaker is open; `retry_after` when known."""

    code = "llm_unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None, detail: Any = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class ProviderAnswerRejected(DomainError):
    """502: the provider answered, but nothing usable came back (refusal, filter, invalid output)."""

    status_code = 502
    code = "llm_bad_answer"


def fallback_allowed(*, requested: bool | None) -> bool:
    """The request's own `fallback` choice when it made one, else `LLM_FALLBACK_FOR_REQUESTS`."""
    return settings.LLM_FALLBACK_FOR_REQUESTS if requested is None else requested


def _retry_after(error: Classified) -> float:
    if error.retry_after is not None:
        return max(1.0, math.ceil(error.retry_after))
    # No hint from the provider: the first backoff step our own retries would have waited.
    return max(1.0, math.ceil(settings.OPENAI_RETRY_MIN_WAIT))


def raise_for_fallback(result: LLMResult[OutT], *, allow_fallback: bool) -> LLMResult[OutT]:
    """`result` itself when it is the model's answer or a fallback is acceptable; otherwise the error
    that made it a fallback: ProviderRateLimited (429), ProviderUnavailable (503) or
    ProviderAnswerRejected (502)."""
    if allow_fallback or not result.is_fallback:
        return result
    error = result.error
    if error is None:  # a fallback always says why; be safe rather than answer a fallback
        raise ProviderUnavailable("The LLM provider did not answer.")
    detail = {"reason": str(error.kind), "task": result.provenance.task}
    if error.kind in RATE_LIMITED:
        raise ProviderRateLimited(
            "The LLM provider is rate limiting requests; try again later.",
            retry_after=_retry_after(error),
            detail=detail,
        )
    if error.kind in UNAVAILABLE:
        retry_after = None
        if error.kind == ErrorKind.CIRCUIT_OPEN:
            retry_after = max(1.0, math.ceil(settings.OPENAI_CIRCUIT_RESET_TIMEOUT))
        elif error.retryable:
            retry_after = _retry_after(error)
        message = {
            ErrorKind.CIRCUIT_OPEN: "The LLM provider is failing; calls are paused for a while.",
            ErrorKind.OFFLINE: "No LLM provider is configured.",
            ErrorKind.QUOTA: "The LLM provider refuses calls for this account (quota).",
            ErrorKind.AUTH: "The LLM provider refuses calls for this account (authentication).",
        }.get(error.kind, "The LLM provider is unavailable; try again later.")
        raise ProviderUnavailable(message, retry_after=retry_after, detail=detail)
    raise ProviderAnswerRejected(f"The LLM provider gave no usable answer: {error.message}", detail=detail)


def run_for_request(
    task: LLMTask[InT, OutT],
    task_input: InT,
    *,
    allow_fallback: bool,
    user_id: int | None = None,
    apply: bool = True,
) -> LLMResult[OutT]:
    """`llm.run` for a request with a person waiting: a fallback is applied and returned only when
    `allow_fallback`; otherwise the provider's failure is raised (see `raise_for_fallback`)."""
    result = run(task, task_input, apply=False, user_id=user_id)
    raise_for_fallback(result, allow_fallback=allow_fallback)
    if apply and task.apply is not None:
        task.apply(task_input, result.output, result.provenance)
    return result
