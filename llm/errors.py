"""Errors are classified once (DESIGN.md §4): what kind, whether a retry can clear it, whether it
opens the breaker at once. Only this module and `llm.providers` know the SDK's exception classes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

import openai
import pydantic

from config.errors import DomainError, RateLimitedError, ServiceUnavailableError

RETRY_AFTER_CAP_S = 60.0
# Providers echo (masked) keys in auth errors; even a masked key is a secret's fingerprint.
_KEYLIKE = re.compile(r"\b(?:sk|co|key)[-_][A-Za-z0-9_*\-.]{4,}", re.IGNORECASE)


def redact(text: str) -> str:
    return _KEYLIKE.sub("[redacted]", text)


class ErrorKind(StrEnum):
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER = "server_error"
    CONFLICT = "conflict"
    QUOTA = "insufficient_quota"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    SCHEMA = "schema"
    QUALITY = "quality"
    LENGTH = "length"
    CONTENT_FILTER = "content_filter"
    REFUSAL = "refusal"
    CIRCUIT_OPEN = "circuit_open"
    RATE_BUDGET = "rate_budget"
    OFFLINE = "offline"


LENGTH_MESSAGE = "The output was cut off at the token limit (finish_reason=length)."
CONTENT_FILTER_MESSAGE = "The provider's content filter stopped the output."

RETRYABLE = frozenset(
    {ErrorKind.RATE_LIMIT, ErrorKind.TIMEOUT, ErrorKind.CONNECTION, ErrorKind.SERVER, ErrorKind.CONFLICT}
)
# The provider will refuse every call until a human acts: stop calling at once.
OPENS_BREAKER = frozenset({ErrorKind.QUOTA, ErrorKind.AUTH})
# Bad output from a healthy provider: a re-ask may fix it; it says nothing about availability.
OUTPUT_ERRORS = frozenset({ErrorKind.SCHEMA, ErrorKind.QUALITY})


@dataclass(frozen=True)
class Classified:
    kind: ErrorKind
    retryable: bool
    opens_breaker: bool
    retry_after: float | None  # seconds, from retry-after-ms / retry-after, capped
    status_code: int | None
    message: str  # safe to log and store: never carries the request or its headers

    @property
    def provider_unavailable(self) -> bool:
        """The provider cannot serve anyone now (breaker open, quota, auth, an outage that outlasted
        the retries, no room in the shared budget): background work defers rather than fall back."""
        return self.retryable or self.opens_breaker or self.kind in (ErrorKind.CIRCUIT_OPEN, ErrorKind.RATE_BUDGET)

    @property
    def counts_against_provider(self) -> bool:
        """Whether this failure says the provider is unhealthy (feeds the breaker)."""
        return self.kind not in OUTPUT_ERRORS and self.kind not in {
            ErrorKind.LENGTH,
            ErrorKind.CONTENT_FILTER,
            ErrorKind.REFUSAL,
            ErrorKind.BAD_REQUEST,
            ErrorKind.NOT_FOUND,
        }


@dataclass(frozen=True)
class Usage:
    """Tokens the provider billed for one response, as it reported them (cached ⊂ input)."""

    tokens_in: int = 0
    tokens_cached: int = 0
    tokens_out: int = 0

    @property
    def total(self) -> int:
        return self.tokens_in + self.tokens_out


def usage_from_body(body: object) -> Usage | None:
    """The `usage` of a chat completion or a Responses API response body (a dict), if it has one."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None
    chat = "prompt_tokens" in usage
    details = usage.get("prompt_tokens_details" if chat else "input_tokens_details")
    return Usage(
        tokens_in=_count(usage.get("prompt_tokens" if chat else "input_tokens")),
        tokens_cached=_count(details.get("cached_tokens") if isinstance(details, dict) else 0),
        tokens_out=_count(usage.get("completion_tokens" if chat else "output_tokens")),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def with_usage(exc: BaseException, usage: Usage | None) -> BaseException:
    """Mark a provider error raised after a response arrived (refusal, truncation, invalid JSON, a
    content filter) with what that response was billed: the ledger counts it like an answer's."""
    if usage is not None:
        exc.llm_usage = usage  # type: ignore[attr-defined]
    return exc


def billed_usage(exc: BaseException) -> Usage | None:
    """The usage `with_usage` marked on an error, else None (nothing was billed: 429, 5xx, timeout)."""
    return getattr(exc, "llm_usage", None)


class LLMError(Exception):
    """Raised inside the llm layer for outputs that are unusable (refusal, schema, quality)."""

    def __init__(self, kind: ErrorKind, message: str, *, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        with_usage(self, usage)


class LLMUnavailableError(ServiceUnavailableError):
    """The provider cannot serve this call (breaker open, quota, outage) and no fallback applies."""

    code = "llm_unavailable"


class LLMDeferredError(LLMUnavailableError):
    """Background work met an unavailable provider: nothing was applied, the item stays pending.

    Raised by `run(..., defer_when_unavailable=True)`; `run_many` turns it into a deferred outcome.
    """

    code = "llm_deferred"


class LLMRateLimitedError(RateLimitedError):
    code = "llm_rate_limited"


class LLMRequestError(DomainError):
    """The provider rejected the request as invalid; retrying will not help."""

    code = "llm_bad_request"


def parse_retry_after(headers: object) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds), capped; None if absent."""
    if headers is None:
        return None
    get = getattr(headers, "get", None)
    if get is None:
        return None
    value = get("retry-after-ms")
    if value is not None:
        try:
            return min(max(float(value) / 1000.0, 0.0), RETRY_AFTER_CAP_S)
        except ValueError:
            pass
    value = get("retry-after")
    if value is not None:
        try:
            return min(max(float(value), 0.0), RETRY_AFTER_CAP_S)
        except ValueError:
            return None  # an HTTP date: rare from LLM providers; fall back to our own backoff
    return None


def _error_code(exc: openai.APIStatusError) -> tuple[str, str]:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    return str(error.get("code") or ""), str(error.get("type") or "")


def _is_quota(exc: openai.APIStatusError) -> bool:
    code, type_ = _error_code(exc)
    text = f"{code} {type_}".lower()
    return "insufficient_quota" in text or "billing" in text or "quota_exceeded" in text


def classify(exc: BaseException) -> Classified:
    """Map any exception from a provider call to one classification."""

    def make(
        kind: ErrorKind, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> Classified:
        return Classified(kind, kind in RETRYABLE, kind in OPENS_BREAKER, retry_after, status, message[:500])

    if isinstance(exc, LLMError):
        return make(exc.kind, exc.message)
    if isinstance(exc, openai.LengthFinishReasonError):
        return make(ErrorKind.LENGTH, LENGTH_MESSAGE)
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return make(ErrorKind.CONTENT_FILTER, CONTENT_FILTER_MESSAGE)
    if isinstance(exc, pydantic.ValidationError | json.JSONDecodeError):
        return make(ErrorKind.SCHEMA, f"Output does not match the schema: {str(exc)[:300]}")
    if isinstance(exc, openai.APITimeoutError):
        return make(ErrorKind.TIMEOUT, "The provider did not answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        return make(ErrorKind.CONNECTION, "Could not connect to the provider.")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = f"HTTP {status}: {_safe_message(exc)}"
        retry_after = parse_retry_after(exc.response.headers)
        if status == 429:
            if _is_quota(exc):
                return make(ErrorKind.QUOTA, message, status=status)
            return make(ErrorKind.RATE_LIMIT, message, status=status, retry_after=retry_after)
        if status in (401, 403):
            return make(ErrorKind.AUTH, message, status=status)
        if status == 408:
            return make(ErrorKind.TIMEOUT, message, status=status, retry_after=retry_after)
        if status == 409:
            return make(ErrorKind.CONFLICT, message, status=status, retry_after=retry_after)
        if status == 404:
            return make(ErrorKind.NOT_FOUND, message, status=status)
        if status >= 500:
            return make(ErrorKind.SERVER, message, status=status, retry_after=retry_after)
        return make(ErrorKind.BAD_REQUEST, message, status=status)
    if isinstance(exc, openai.APIResponseValidationError):
        return make(ErrorKind.SCHEMA, "The provider's response did not match the API's shape.")
    if isinstance(exc, openai.OpenAIError):
        return make(ErrorKind.BAD_REQUEST, f"{type(exc).__name__}: {redact(str(exc))[:300]}")
    raise TypeError(f"not a provider error: {type(exc).__name__}") from exc


def _safe_message(exc: openai.APIStatusError) -> str:
    """The provider's own error message (never echoes our request or key)."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    message = error.get("message") if isinstance(error, dict) else None
    return redact(str(message or exc.__class__.__name__))[:300]


PROVIDER_ERRORS = (openai.OpenAIError, pydantic.ValidationError, json.JSONDecodeError, LLMError)
