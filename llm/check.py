"""`llm_check`: what the settings select, and one tiny call to prove it answers.

The check goes around the runtime on purpose (no cache, breaker or retries): it must say what the
provider answers right now, even while the breaker is open. The call is billed, so it is one row
in the ledger like any other.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import openai
from django.core.exceptions import ImproperlyConfigured

from llm.errors import PROVIDER_ERRORS, ErrorKind, classify
from llm.ledger import CallRecord, llm_call_record
from llm.models import LLMCall
from llm.providers import ProviderConfig, get_client, provider_config

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

CHECK_TASK = "llm_check"
CHECK_MAX_TOKENS = 16
CHECK_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Reply with the single word: pong"}]


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    """What `llm_check` prints; never a key."""

    provider: str
    endpoint: str
    model: str
    deployment: str
    api_version: str
    called: bool
    ok: bool
    latency_ms: int | None = None
    error: str = ""  # a sentence for a human
    error_kind: str = ""
    detail: str = ""  # the provider's own (redacted) message

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _describe(config: ProviderConfig) -> dict[str, Any]:
    return {
        "provider": config.kind,
        "endpoint": config.endpoint,
        "model": config.model if config.kind != "offline" else "",
        "deployment": config.azure_deployment,
        "api_version": config.api_version,
    }


def _human_error(config: ProviderConfig, exc: BaseException) -> tuple[str, str, str]:
    """(sentence, kind, provider detail) for a failed check call."""
    classified = classify(exc)
    kind = classified.kind
    code = ""
    if isinstance(exc, openai.APIStatusError) and isinstance(exc.body, dict):
        error = exc.body.get("error", exc.body)
        code = str(error.get("code") or "") if isinstance(error, dict) else ""
    where = config.endpoint
    if kind == ErrorKind.AUTH:
        sentence = f"authentication failed at {where}: check the API key"
    elif kind == ErrorKind.NOT_FOUND and config.kind == "azure":
        if code == "DeploymentNotFound":
            sentence = f"deployment not found: '{config.azure_deployment}' does not exist at {where}"
        else:
            sentence = f"not found at {where}: check the endpoint and the api-version ({config.api_version})"
    elif kind == ErrorKind.NOT_FOUND:
        sentence = f"model not found: '{config.model}' is not served at {where}"
    elif kind == ErrorKind.CONNECTION:
        sentence = f"cannot reach {where}"
    elif kind == ErrorKind.TIMEOUT:
        sentence = f"no answer from {where} within {config.request_timeout:g} s"
    elif kind == ErrorKind.QUOTA:
        sentence = "quota exhausted: check the plan and billing of this account"
    elif kind == ErrorKind.RATE_LIMIT:
        sentence = "rate limited right now: the key works, try again shortly"
    elif kind == ErrorKind.SERVER:
        sentence = f"the provider failed (HTTP {classified.status_code})"
    else:
        sentence = f"the provider refused the request ({kind})"
    return sentence, str(kind), classified.message


def provider_check() -> CheckReport:
    """Describe the configured provider and, unless offline, make one tiny chat completion."""
    try:
        config = provider_config()
    except ImproperlyConfigured as exc:
        return CheckReport(
            provider="misconfigured",
            endpoint="",
            model="",
            deployment="",
            api_version="",
            called=False,
            ok=False,
            error=str(exc),
            error_kind="configuration",
        )
    described = _describe(config)
    if config.is_offline:
        return CheckReport(**described, called=False, ok=True)

    # Local servers know only max_tokens; as in llm.runtime.
    limit: dict[str, Any] = {"max_tokens" if config.kind == "compatible" else "max_completion_tokens": CHECK_MAX_TOKENS}
    record = CallRecord(
        task=CHECK_TASK, task_version=1, provider=config.kind, model=config.model, mode=LLMCall.Mode.NOW, attempts=1
    )
    started = time.monotonic()
    try:
        completion = get_client(config).chat.completions.create(
            model=config.wire_model,
            messages=CHECK_MESSAGES,
            **limit,
        )
    except PROVIDER_ERRORS as exc:
        latency_ms = int((time.monotonic() - started) * 1000)
        sentence, kind, detail = _human_error(config, exc)
        record.latency_ms, record.error_class, record.error_message = latency_ms, kind, detail
        llm_call_record(record=record)
        return CheckReport(
            **described, called=True, ok=False, latency_ms=latency_ms, error=sentence, error_kind=kind, detail=detail
        )
    latency_ms = int((time.monotonic() - started) * 1000)
    usage = completion.usage
    record.status, record.latency_ms = LLMCall.Status.SUCCEEDED, latency_ms
    record.tokens_in = usage.prompt_tokens if usage else 0
    record.tokens_out = usage.completion_tokens if usage else 0
    record.request_id = str(getattr(completion, "_request_id", "") or "")[:100]
    llm_call_record(record=record)
    return CheckReport(**described, called=True, ok=True, latency_ms=latency_ms)
