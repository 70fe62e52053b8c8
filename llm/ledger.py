"""Writes to the usage ledger: one `LLMCall` row per call, whatever happened.

Every LLM call writes a row, so the insert is on the hot path. `save()` recompiles the same INSERT
each time; `llm_call_record` has Django's own insert compiler compile it once per database, then
inserts each row (RETURNING its id) with the values each field prepares for saving, as `save()`
would. Where that cannot be done the same way (no RETURNING, special placeholders, result
converters, save signals), it falls back to `save()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import signals
from django.db.models.sql import InsertQuery

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
    return _insert(llm_call_build(record=record))


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    fields: list  # the model fields whose values fill the placeholders, in order
    returning_fields: list


# (database alias, vendor) -> the compiled INSERT, or None where `save()` must do it.
_compiled: dict[tuple[str, str], _CompiledInsert | None] = {}
_compiled_lock = threading.Lock()


def _compile_insert(connection: BaseDatabaseWrapper) -> _CompiledInsert | None:
    """Django's INSERT … RETURNING for one row, as `save()` sends it; None if it can't be reused as is."""
    meta = LLMCall._meta
    # As Model._save_table does for a new row: every local concrete field but the auto primary key.
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    returning_fields = meta.db_returning_fields
    if not connection.features.can_return_columns_from_insert or any(hasattr(f, "get_placeholder") for f in fields):
        return None
    query = InsertQuery(LLMCall)
    query.insert_values(fields, [LLMCall()])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = returning_fields
    statements = compiler.as_sql()
    if len(statements) != 1 or compiler.returning_params:
        return None
    sql, params = statements[0]
    converters = compiler.get_converters([f.get_col(meta.db_table) for f in returning_fields])
    if len(params) != len(fields) or converters:
        return None
    return _CompiledInsert(sql=sql, fields=fields, returning_fields=returning_fields)


def _insert(row: LLMCall) -> LLMCall:
    """Insert a new ledger row and return it saved (pk set), as `save(force_insert=True)` would."""
    if signals.pre_save.has_listeners(LLMCall) or signals.post_save.has_listeners(LLMCall):
        row.save(force_insert=True)
        return row
    using = router.db_for_write(LLMCall, instance=row)
    connection = connections[using]
    key = (using, connection.vendor)
    if key not in _compiled:
        with _compiled_lock:
            if key not in _compiled:
                _compiled[key] = _compile_insert(connection)
    compiled = _compiled[key]
    if compiled is None:
        row.save(force_insert=True, using=using)
        return row
    # What the insert compiler does with each value: pre_save (auto_now_add stamps created_at), then prepare.
    params = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in compiled.fields]
    with transaction.mark_for_rollback_on_error(using=using), connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        returned = connection.ops.fetch_returned_insert_columns(cursor, ())
    for value, returning_field in zip(returned, compiled.returning_fields, strict=True):
        setattr(row, returning_field.attname, value)
    row._state.adding = False
    row._state.db = using
    return row
