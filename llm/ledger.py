"""Writes to the usage ledger: one `LLMCall` row per call, whatever happened.

Every LLM call writes a row, so the insert is on the hot path. `save()` builds a model instance
and recompiles the same INSERT each time; `llm_call_record` has Django's own insert compiler
compile it once per database, then inserts each row (RETURNING its id) with the values each field
prepares for saving, as `save()` would, without a model instance. Where that cannot be done the
same way (no RETURNING, special placeholders, result converters, fields that rewrite their value
on save, save signals), it falls back to `save()`.

Why one INSERT per call and not a per-process buffer flushed in batches: a buffer dies with its
process (a worker killed by the OOM killer or SIGKILL; Celery's prefork children leave through
`os._exit`, past any `atexit`), so rows, billed ones included, would be lost on a crash; and a
call's row id is handed to its apply (`Provenance.call_id`), which domain rows store (product
content, dataset entries): a buffered row would have no id yet, or one whose row a crash can lose
after the domain row that refers to it committed. Not even cache hits' rows (they bill nothing)
are buffered: their ids are stored the same way. (Measured on this machine under load: the row's
write, committed asynchronously, takes ~0.28 ms of a cache hit's ~0.5 ms.)

A ledger row is an event record. On PostgreSQL, a row that is its own transaction (no atomic block
around the call) is committed asynchronously (`SET LOCAL synchronous_commit TO OFF` in the same
round trip), as PostgreSQL's manual suggests for event logging: the call does not wait for the
WAL flush. A PostgreSQL crash can then lose the last moments of such rows (at most three
`wal_writer_delay`s, 0.6 s by default), never corrupt anything, and never lose a row a later
durable transaction refers to (the WAL is flushed in order). LLM_LEDGER_ASYNC_COMMIT=false makes
every ledger commit wait for the flush.

Rows commit call by call, never inside a domain transaction: a caller's transaction that rolls back
must not take the bill with it. So when the default connection is inside a transaction (an atomic
block of the caller's), the row goes through a connection of the ledger's own on PostgreSQL
(LLM_LEDGER_OWN_CONNECTION), in autocommit, opened for the `ledger_connection_scope` around a run
(or for the one row) and closed after it; a session `lock_timeout` keeps it from waiting on a lock
the caller's transaction holds (a user row locked FOR UPDATE, say). If that connection cannot write
the row (it times out, or the row refers to something the caller's transaction has not committed
yet), the row is written in the caller's transaction as before. On SQLite (one writer at a time: a
second connection would wait for the caller's own lock) the row always shares the caller's
transaction, and so it does inside a test case's transaction (see `_in_callers_transaction`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import DateTimeField, Field, signals
from django.db.models.sql import InsertQuery
from django.utils import timezone

from llm.errors import Usage
from llm.models import LLMCall
from llm.usage import estimate_cost

logger = logging.getLogger("contentops.llm")


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
    # Summed over every attempt that got a response, as the provider reported them (refusals,
    # truncations and invalid answers are billed too); cached input tokens are part of tokens_in.
    tokens_in: int = 0
    tokens_cached: int = 0
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

    def add_usage(self, usage: Usage | None) -> None:
        """Count one response's billed tokens (None: that attempt got no response, nothing billed)."""
        if usage is not None:
            self.tokens_in += usage.tokens_in
            self.tokens_cached += usage.tokens_cached
            self.tokens_out += usage.tokens_out


def _subject_values(subject: tuple[str, Any] | None) -> dict[str, Any]:
    if subject is None:
        return {}
    label, pk = subject
    app_label, model = label.lower().split(".")
    content_type = ContentType.objects.get_by_natural_key(app_label, model)  # cached by Django
    return {"subject_type_id": content_type.pk, "subject_id": str(pk)}


def llm_call_values(*, record: CallRecord) -> dict[str, Any]:
    """The ledger row for a record, as model field attnames and values (created_at is set on save)."""
    return {
        "task": record.task,
        "task_version": record.task_version,
        "provider": record.provider,
        "model": record.model,
        "mode": record.mode,
        "status": record.status,
        "attempts": record.attempts,
        "tokens_in": record.tokens_in,
        "tokens_cached": min(record.tokens_cached, record.tokens_in),
        "tokens_out": record.tokens_out,
        "cost_usd": estimate_cost(
            provider=record.provider,
            model=record.model,
            tokens_in=record.tokens_in,
            tokens_out=record.tokens_out,
            tokens_cached=record.tokens_cached,
            batch=record.mode == LLMCall.Mode.BATCH,
        ),
        "latency_ms": record.latency_ms,
        "rate_limit_errors": record.rate_limit_errors,
        "timeout_errors": record.timeout_errors,
        "api_errors": record.api_errors,
        "error_class": record.error_class[:40],
        "error_message": record.error_message[:500],
        "request_id": record.request_id[:100],
        "cache_key": record.cache_key,
        "user_id": record.user_id,
        **_subject_values(record.subject),
    }


def llm_call_build(*, record: CallRecord) -> LLMCall:
    """An unsaved ledger row for a record (bulk writers, e.g. batch ingest, save many at once)."""
    return LLMCall(**llm_call_values(record=record))


def llm_call_record(*, record: CallRecord) -> int | None:
    """Persist one call, committed at once even inside a caller's transaction (see the module doc);
    returns its id, or None when metrics are disabled (OPENAI_METRICS_ENABLED=false)."""
    if not settings.OPENAI_METRICS_ENABLED:
        return None
    values = llm_call_values(record=record)
    using = router.db_for_write(LLMCall)
    connection = connections[using]
    autocommit = connection.get_autocommit()
    if not autocommit and _in_callers_transaction(connection):
        row_id = _insert_own(values, default=connection, using=using)
        if row_id is not None:
            return row_id
    return _insert(values, using=using, connection=connection, autocommit=autocommit)


# --- the ledger's own connection ----------------------------------------------------------------

# A lock the caller's own transaction holds would otherwise make the ledger wait for itself.
_OWN_LOCK_TIMEOUT = "2s"
OWN_APPLICATION_NAME = "contentops-ledger"
_own = threading.local()


def _in_callers_transaction(connection: BaseDatabaseWrapper) -> bool:
    """Autocommit is off: is that a transaction of the caller's, and not a test case's?

    Django marks the atomic blocks a TestCase wraps each test in (`_from_testcase`). Inside one,
    every row must stay in the test's transaction, which is rolled back after the test: a row
    committed through another connection would outlive it and leak into the next tests. So there
    the ledger behaves as on SQLite; transactional tests (no such block) see what production does.
    """
    return not any(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


@contextmanager
def ledger_connection_scope() -> Iterator[None]:
    """Keep the ledger's own connection (if a row needs it) open until the block ends, so the rows of
    one run inside a caller's transaction share one connection. Nested scopes are one scope."""
    if getattr(_own, "depth", 0):
        _own.depth += 1
        try:
            yield
        finally:
            _own.depth -= 1
        return
    _own.depth = 1
    try:
        yield
    finally:
        _own.depth = 0
        _close_own()


def _close_own() -> None:
    own = getattr(_own, "connection", None)
    _own.connection = None
    if own is not None:
        try:
            own.close()
        except DatabaseError:
            logger.warning("ledger: could not close its own connection", exc_info=True)


def _own_connection(default: BaseDatabaseWrapper) -> BaseDatabaseWrapper | None:
    """This thread's ledger connection to the default database (PostgreSQL only), opened lazily."""
    if not settings.LLM_LEDGER_OWN_CONNECTION or default.vendor != "postgresql":
        return None
    own = getattr(_own, "connection", None)
    if own is not None and own.settings_dict["NAME"] == default.settings_dict["NAME"]:
        return own
    _close_own()
    options = {key: value for key, value in default.settings_dict.get("OPTIONS", {}).items() if key != "pool"}
    # A session setting sent with the connection's startup packet: no round trip of its own.
    options["options"] = f"{options.get('options', '')} -c lock_timeout={_OWN_LOCK_TIMEOUT}".strip()
    options["application_name"] = OWN_APPLICATION_NAME  # how operators (and tests) tell it apart
    settings_dict = {**default.settings_dict, "OPTIONS": options, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False}
    own = type(default)(settings_dict, alias=f"{default.alias}-ledger")
    _own.connection = own
    return own


def _insert_own(values: dict[str, Any], *, default: BaseDatabaseWrapper, using: str) -> int | None:
    """Insert through the ledger's own connection, committed at once; None where it cannot (the
    caller's transaction then takes the row)."""
    own = _own_connection(default)
    if own is None:
        return None
    in_scope = bool(getattr(_own, "depth", 0))
    try:
        if (
            _compiled_insert(using=using, connection=default) is None
            or signals.pre_save.has_listeners(LLMCall)
            or signals.post_save.has_listeners(LLMCall)
        ):
            return None  # save() goes through an alias: the caller's connection does it
        return _insert(values, using=using, connection=own, autocommit=True, sql_from=default)
    except DatabaseError as exc:
        logger.warning(
            "ledger: its own connection could not write the row (%s: %s); writing it in the caller's transaction",
            type(exc).__name__,
            str(exc).splitlines()[0][:200] if str(exc) else "",
        )
        _close_own()
        return None
    finally:
        if not in_scope:
            _close_own()


# Scopes asynchronous commit to the one statement's transaction: PostgreSQL runs a multi-statement
# query string as one implicit transaction, and SET LOCAL ends with it.
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF; "


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    fields: list  # the model fields whose values fill the placeholders, in order
    stamped: frozenset  # attnames of auto_now / auto_now_add datetimes: now() on insert, as pre_save does
    # The same INSERT committed asynchronously, where the backend can send it (PostgreSQL through
    # psycopg 3 with client-side binding: several statements in one string); else None.
    async_sql: str | None


# (database alias, vendor) -> the compiled INSERT, or None where `save()` must do it.
_compiled: dict[tuple[str, str], _CompiledInsert | None] = {}
_compiled_lock = threading.Lock()


def _stamped_on_insert(model_field: Field) -> bool | None:
    """True for a datetime stamped on insert, False for a field saved as given; None if neither is sure."""
    if isinstance(model_field, DateTimeField) and (model_field.auto_now or model_field.auto_now_add):
        return type(model_field).pre_save is DateTimeField.pre_save or None
    if type(model_field).pre_save is not Field.pre_save:
        return None  # a field that rewrites its value on save: let save() do it
    return False


def _compile_insert(connection: BaseDatabaseWrapper) -> _CompiledInsert | None:
    """Django's INSERT … RETURNING id for one row, as `save()` sends it; None if it can't be reused as is."""
    meta = LLMCall._meta
    # As Model._save_table does for a new row: every local concrete field but the auto primary key.
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    stamped = {f.attname: _stamped_on_insert(f) for f in fields}
    if (
        None in stamped.values()
        or meta.db_returning_fields != [meta.pk]
        or not connection.features.can_return_columns_from_insert
        or any(hasattr(f, "get_placeholder") for f in fields)
    ):
        return None
    query = InsertQuery(LLMCall)
    query.insert_values(fields, [LLMCall()])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [meta.pk]
    statements = compiler.as_sql()
    if len(statements) != 1 or compiler.returning_params:
        return None
    sql, params = statements[0]
    if len(params) != len(fields) or compiler.get_converters([meta.pk.get_col(meta.db_table)]):
        return None
    client_side_binding = not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
    async_capable = connection.vendor == "postgresql" and is_psycopg3 and client_side_binding
    return _CompiledInsert(
        sql=sql,
        fields=fields,
        stamped=frozenset(name for name, is_stamped in stamped.items() if is_stamped),
        async_sql=_ASYNC_COMMIT + sql if async_capable else None,
    )


def _compiled_insert(*, using: str, connection: BaseDatabaseWrapper) -> _CompiledInsert | None:
    key = (using, connection.vendor)
    if key not in _compiled:
        with _compiled_lock:
            if key not in _compiled:
                _compiled[key] = _compile_insert(connection)
    return _compiled[key]


def _insert(
    values: dict[str, Any],
    *,
    using: str,
    connection: BaseDatabaseWrapper,
    autocommit: bool,
    sql_from: BaseDatabaseWrapper | None = None,
) -> int:
    """Insert a new ledger row and return its id, as `LLMCall(**values).save(force_insert=True)` would.

    `sql_from`: the alias's connection whose compiled INSERT another connection to the same
    database (the ledger's own) sends.
    """
    if signals.pre_save.has_listeners(LLMCall) or signals.post_save.has_listeners(LLMCall):
        return _save(values, using=using)
    compiled = _compiled_insert(using=using, connection=sql_from or connection)
    if compiled is None:
        return _save(values, using=using)
    # What the insert compiler does with each value: the stamp pre_save would set, then prepare.
    now = timezone.now()
    params = [
        f.get_db_prep_save(
            now if f.attname in compiled.stamped else (values[f.attname] if f.attname in values else f.get_default()),
            connection,
        )
        for f in compiled.fields
    ]
    # Only a row that is its own transaction (autocommit; atomic blocks turn it off): in the
    # caller's transaction SET LOCAL would reach its other writes too.
    commit_async = compiled.async_sql is not None and settings.LLM_LEDGER_ASYNC_COMMIT and autocommit
    # In the caller's transaction a failed insert must mark it for rollback, as save() would.
    guard = transaction.mark_for_rollback_on_error(using=using) if sql_from is None else nullcontext()
    with guard, connection.cursor() as cursor:
        if commit_async and compiled.async_sql is not None:
            cursor.execute(compiled.async_sql, params)
            cursor.nextset()  # past SET LOCAL's empty result, to the INSERT's
        else:
            cursor.execute(compiled.sql, params)
        (returned_id,) = connection.ops.fetch_returned_insert_columns(cursor, ())  # type: ignore[attr-defined]
    return returned_id


def _save(values: dict[str, Any], *, using: str | None = None) -> int:
    row = LLMCall(**values)
    row.save(force_insert=True, using=using)
    return row.pk
