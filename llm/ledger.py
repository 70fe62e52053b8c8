"""Writes to the usage ledger: one `LLMCall` row per call, whatever happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from llm.models import LLMCall
from llm.usage import estimate_cost


@dataclass(kw_only=True)
class CallRecord:
    """What the runtime learned about one call, turned into a ledger row at the end."""

    task: str
    task_version: int
    provider: str
    model: str
    mode: str
    status: str = LLMCall.Status.FAILED
    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    rate_limit_errors: int = 0
    timeout_errors: int = 0
    api_errors: int = 0
    error_class: str = ""
    error_message: str = ""
    request_id: str = ""
    cache_key: str = ""
    subject: tuple[str, Any] | None = None
    user_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _subject_fields(subject: tuple[str, Any] | None) -> dict[str, Any]:
    if subject is None:
        return {}
    label, pk = subject
    app_label, model = label.lower().split(".")
    return {"subject_type": ContentType.objects.get_by_natural_key(app_label, model), "subject_id": str(pk)}


def llm_call_build(*, record: CallRecord) -> LLMCall:
    """An unsaved ledger row for a record (bulk writers, e.g. batch ingest, save many at once)."""
    return LLMCall(
        task=record.task,
        task_version=record.task_version,
        provider=record.provider,
        model=record.model,
        mode=record.mode,
        status=record.status,
        attempts=record.attempts,
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        cost_usd=estimate_cost(
            provider=record.provider,
            model=record.model,
            tokens_in=record.tokens_in,
            tokens_out=record.tokens_out,
            batch=record.mode == LLMCall.Mode.BATCH,
        ),
        latency_ms=record.latency_ms,
        rate_limit_errors=record.rate_limit_errors,
        timeout_errors=record.timeout_errors,
        api_errors=record.api_errors,
        error_class=record.error_class[:40],
        error_message=record.error_message[:500],
        request_id=record.request_id[:100],
        cache_key=record.cache_key,
        user_id=record.user_id,
        **_subject_fields(record.subject),
    )


def llm_call_record(*, record: CallRecord) -> LLMCall | None:
    """Persist one call. Returns None when metrics are disabled (OPENAI_METRICS_ENABLED=false)."""
    if not settings.OPENAI_METRICS_ENABLED:
        return None
    row = llm_call_build(record=record)
    row.save(force_insert=True)
    return row
