"""Ingesting results: output and error lines joined to items on custom_id (never on line order),
applied with bulk writes, and every item settled in exactly one final state.

Per chunk of lines: read the chunk's open items (their inputs) and validate each line like
`llm.runtime` in a second thread, while this one writes the chunk before it in one transaction:
lock the batch row, claim the judged items still open (row locks, skip locked, status condition),
write the ledger rows (COPY), apply the outputs (the task's bulk apply), update the items (COPY
into a temporary table, one UPDATE) and the batch counters. Judging is our CPU and writing mostly
the database's, so the two can overlap; at most two chunks are in hand. Files are read line by line
and a chunk's objects are dropped once written, so memory does not grow with the file. A crash
rolls back only the chunk being written; a rerun skips items already applied (or already failed),
so ingesting twice changes nothing and nothing is applied twice.
When every part has been read, `batch_settle` gives the items still open (expired, cancelled, lost,
transient errors) their end: resubmitted in a new batch within the retry budget, or failed with a
reason (and the task's `fail` hook).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pydantic
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, reset_queries, transaction
from django.db.models import F
from django.utils import timezone
from pydantic import BaseModel

from batches.models import Batch, BatchItem, BatchPart
from batches.services.common import (
    FINISHED,
    TERMINAL_PARTS,
    BatchLock,
    batch_lock,
    batch_provider,
    batch_task,
    logger,
    part_path,
)
from batches.services.create import batch_build
from batches.services.rows import db_column, gc_paused, rows_update
from batches.services.settle import APPLY_FAILED, INVALID_INPUT, RETRYABLE, batch_settle, fail_hooks
from config.errors import ConflictError
from llm.batching import (
    LineOutcome,
    ResultLine,
    batch_call_values,
    batch_calls_insert,
    batch_file_download,
    interpret_result,
    read_result_line,
)
from llm.errors import ErrorKind
from llm.runtime import APPLY_ERRORS
from llm.task import LLMTask, Provenance


@dataclass
class IngestReport:
    batch_id: str
    applied: int = 0
    failed: int = 0
    resubmitted: int = 0
    skipped: int = 0  # lines for items already settled (e.g. a second ingest) or repeated lines
    unmatched: int = 0  # lines naming no item of this batch, or none at all
    settled: bool = False
    retry_batch: Batch | None = None


class _Item(NamedTuple):
    """A claimed item: just the columns ingest needs (no model instance per line)."""

    pk: int
    custom_id: str
    input: dict | str  # JSON text where the database hands it over as such (PostgreSQL)
    subject_type_id: int | None
    subject_id: str


@dataclass
class _Entry:
    item: _Item
    task_input: BaseModel | None
    outcome: LineOutcome
    answered: bool  # the provider answered the line (a billed call: it gets a ledger row)
    call_id: int | None = None


@dataclass
class _Context:
    batch: Batch
    task: LLMTask
    report: IngestReport
    lock: BatchLock
    is_fallback: bool
    subjects: dict[int, str] = field(default_factory=dict)

    def subject(self, item: _Item) -> tuple[str, Any] | None:
        if item.subject_type_id is None:
            return None
        if item.subject_type_id not in self.subjects:
            ct = ContentType.objects.get_for_id(item.subject_type_id)
            self.subjects[item.subject_type_id] = f"{ct.app_label}.{ct.model}"
        return self.subjects[item.subject_type_id], item.subject_id


def _ready_parts(batch: Batch) -> list[BatchPart]:
    return list(batch.parts.filter(status__in=TERMINAL_PARTS, ingested_at__isnull=True).order_by("number"))


def batch_ingest_check(*, batch: Batch) -> bool:
    """True when the batch has results to ingest, False when it is already ingested;
    ConflictError (batch_not_finished) while no part has finished yet."""
    if batch.ingested_at is not None:
        return False
    if batch.status not in FINISHED and not _ready_parts(batch):
        raise ConflictError(
            f"Batch {batch.batch_id} is {batch.status}: there are no results to ingest yet.", code="batch_not_finished"
        )
    return True


def batch_ingest(*, batch: Batch) -> IngestReport:
    """Apply the results of every finished part; once all are read, settle the batch.

    Idempotent: a second ingest of the same output changes nothing. Returns what happened,
    including the batch that resubmits the items that can clear (already built, not submitted).
    """
    batch.refresh_from_db()
    report = IngestReport(batch_id=batch.batch_id)
    if not batch_ingest_check(batch=batch):
        report.settled = True
        return report
    with batch_lock(batch) as lock, gc_paused():
        context = _Context(batch, batch_task(batch), report, lock, is_fallback=batch.provider == "offline")
        for part in _ready_parts(batch):
            part.batch = batch
            _ingest_part(context, part)
        batch.refresh_from_db()
        if batch.status in FINISHED and not _ready_parts(batch):
            settlement = batch_settle(batch=batch)
            report.failed += settlement.failed
            report.resubmitted += settlement.resubmitted
            report.retry_batch = settlement.retry_batch
            report.settled = True
    if report.retry_batch is not None:
        # A submit may have got to it first (and builds it itself).
        with contextlib.suppress(ConflictError), batch_lock(report.retry_batch):
            batch_build(batch=report.retry_batch)
    logger.info(
        "batch %s ingested: %d applied, %d failed, %d resubmitted, %d skipped, %d unmatched",
        batch.batch_id,
        report.applied,
        report.failed,
        report.resubmitted,
        report.skipped,
        report.unmatched,
    )
    return report


def _ingest_part(context: _Context, part: BatchPart) -> None:
    paths = {kind: part_path(part, kind, batch=context.batch) for kind in ("output", "error")}
    remote_ids = {"output": part.output_file_id, "error": part.error_file_id}
    for kind in ("output", "error"):  # outputs first: a line in both files counts as answered
        if remote_ids[kind] and not paths[kind].exists():
            batch_file_download(config=batch_provider(context.batch), file_id=remote_ids[kind], destination=paths[kind])
        if paths[kind].exists():
            _ingest_file(context, paths[kind])
    part.ingested_at = timezone.now()
    part.save(update_fields=["ingested_at"])


@dataclass
class _Prepared:
    """A chunk read and on its way: its lines by custom_id and its items being judged."""

    by_id: dict[str, ResultLine]
    judged: Future[list[_Entry]]


def _line_chunks(path: Path, size: int) -> Iterator[list[ResultLine]]:
    chunk: list[ResultLine] = []
    with path.open("rb") as lines:
        for raw in lines:
            line = read_result_line(raw)
            if line is None:
                continue
            chunk.append(line)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _ingest_file(context: _Context, path: Path) -> None:
    """Two chunks in flight: a thread judges chunk N+1 (validation and checks: our CPU, no database)
    while this one writes chunk N (mostly waiting for the database), so the two overlap."""
    judge = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-ingest-judge")
    pending: _Prepared | None = None
    try:
        for chunk in _line_chunks(path, int(settings.BATCH_INGEST_CHUNK)):
            prepared = _prepare(context, chunk, judge)
            if pending is not None:
                _write_chunk(context, pending)
                context.lock.refresh()
                _forget_queries()
            pending = prepared
        if pending is not None:
            _write_chunk(context, pending)
    finally:
        judge.shutdown(wait=True, cancel_futures=True)


def _forget_queries() -> None:
    """With DEBUG on, Django keeps the text of every query; ingest's carry megabytes of outputs each.

    Cleared between chunks (as Django does between requests), unless a test is counting queries.
    """
    if settings.DEBUG and not connection.force_debug_cursor:
        reset_queries()


_ITEM_COLUMNS = ("id", "custom_id", "input", "subject_type", "subject_id", "batch", "status", "error_class")


def _open_items(batch: Batch, custom_ids: list[str]) -> list[_Item]:
    """This chunk's items that are still open and not yet judged (read without locks: `_claim`
    decides, in the writing transaction, which of them this ingest settles)."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of thousands, and the input as the JSON text
        # it is stored as (validated straight from text, never decoded into dicts first). One
        # lookup of the unique (batch, custom_id) index per id, fenced (OFFSET 0) so the status
        # test stays outside: with stale statistics the planner otherwise walks the batch's whole
        # (batch, status) range and tests every row against the array, a chunk costing time in
        # proportion to the batch (0.4 s a chunk at 21,000 items open).
        meta, quote = BatchItem._meta, connection.ops.quote_name
        column = {name: quote(db_column(BatchItem, name)) for name in _ITEM_COLUMNS}
        # Identifiers from model metadata only; every value is a parameter.
        sql = (
            "SELECT i.id, i.custom_id, i.input, i.subject_type_id, i.subject_id "  # noqa: S608
            "FROM unnest(%s::text[]) AS wanted(custom_id) CROSS JOIN LATERAL ("
            f"SELECT {column['id']} AS id, {column['custom_id']} AS custom_id, {column['input']}::text AS input, "
            f"{column['subject_type']} AS subject_type_id, {column['subject_id']} AS subject_id, "
            f"{column['status']} AS status, {column['error_class']} AS error_class FROM {quote(meta.db_table)} "
            f"WHERE {column['batch']} = %s AND {column['custom_id']} = wanted.custom_id OFFSET 0) AS i "
            "WHERE i.status = %s AND i.error_class = '' ORDER BY i.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [custom_ids, batch.pk, BatchItem.Status.SUBMITTED.value])
            return [_Item(*row) for row in cursor.fetchall()]
    return [
        _Item(*row)
        for row in BatchItem.objects.filter(
            batch_id=batch.pk, custom_id__in=custom_ids, status=BatchItem.Status.SUBMITTED, error_class=""
        ).values_list("pk", "custom_id", "input", "subject_type_id", "subject_id")
    ]


def _claim(item_ids: list[int]) -> set[int]:
    """Lock those of these items still open and not yet judged; a racing ingest skips them."""
    if connection.vendor == "postgresql":
        # One primary-key lookup per id (in id order, the order rows are locked in), whatever the
        # planner believes about the table: `id = ANY(array)` became a sequential scan of every
        # item per chunk on a fresh database.
        meta, quote = BatchItem._meta, connection.ops.quote_name
        column = {name: quote(db_column(BatchItem, name)) for name in _ITEM_COLUMNS}
        sql = (
            "SELECT i.id FROM unnest(%s::bigint[]) AS wanted(id) CROSS JOIN LATERAL ("  # noqa: S608
            f"SELECT {column['id']} AS id FROM {quote(meta.db_table)} WHERE {column['id']} = wanted.id "
            f"AND {column['status']} = %s AND {column['error_class']} = '' FOR UPDATE SKIP LOCKED) AS i"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [item_ids, BatchItem.Status.SUBMITTED.value])
            return {pk for (pk,) in cursor.fetchall()}
    return set(
        BatchItem.objects.select_for_update(skip_locked=True)
        .filter(pk__in=item_ids, status=BatchItem.Status.SUBMITTED, error_class="")
        .values_list("pk", flat=True)
    )


def _prepare(context: _Context, lines: list[ResultLine], judge: ThreadPoolExecutor) -> _Prepared | None:
    """Pair a chunk's lines with their open items and hand them to the judging thread."""
    batch, report = context.batch, context.report
    by_id: dict[str, ResultLine] = {}
    for line in lines:
        if line.custom_id is None:
            report.unmatched += 1
            logger.warning("batch %s: a result line names no item (%s)", batch.batch_id, line.corrupt or "no id")
        elif line.custom_id in by_id:
            report.skipped += 1
        else:
            by_id[line.custom_id] = line
    if not by_id:
        return None
    items = _open_items(batch, list(by_id))
    return _Prepared(by_id, judge.submit(_judge_all, context.task, items, by_id))


def _judge_all(task: LLMTask, items: list[_Item], by_id: dict[str, ResultLine]) -> list[_Entry]:
    """Validate each item's line like `llm.runtime` (task checks are pure functions: no database)."""
    return [_judge(task, item, by_id[item.custom_id]) for item in items]


def _write_chunk(context: _Context, prepared: _Prepared | None) -> None:
    """One transaction: claim the chunk's judged items, write the ledger, apply, settle the items."""
    if prepared is None:
        return
    batch, task, report = context.batch, context.task, context.report
    judged = prepared.judged.result()
    if not judged:  # every line's item was settled already (a second ingest)
        report.skipped += len(prepared.by_id)
        return
    now = timezone.now()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # never a caller's transaction
            _commit_without_waiting()
        # The batch row first, then its items: the order settling takes them in too, so a racing
        # ingest (or a settle) waits for this chunk instead of deadlocking with it.
        list(Batch.objects.select_for_update().filter(pk=batch.pk).values_list("pk"))
        claimed = _claim([entry.item.pk for entry in judged])
        entries = [entry for entry in judged if entry.item.pk in claimed]
        report.skipped += len(prepared.by_id) - len(entries)
        answered = [entry for entry in entries if entry.answered]
        rows = [
            batch_call_values(
                task=task,
                provider=batch.provider,
                model=batch.model,
                outcome=entry.outcome,
                subject=context.subject(entry.item),
                is_fallback=context.is_fallback,
                user_id=batch.created_by_id,
            )
            for entry in answered
        ]
        for entry, call_id in zip(answered, batch_calls_insert(rows=rows), strict=False):
            entry.call_id = call_id  # none when metrics are off
        applied = [e for e in entries if e.outcome.ok]
        errors = _apply(context, applied, now=now)
        for entry in applied:
            if entry.item.pk in errors:
                entry.outcome = LineOutcome(None, APPLY_FAILED, errors[entry.item.pk])
        applied = [e for e in entries if e.outcome.ok]
        failed = [e for e in entries if not e.outcome.ok and e.outcome.error_class not in RETRYABLE]
        transient = [e for e in entries if not e.outcome.ok and e.outcome.error_class in RETRYABLE]
        _write_items(applied, failed, transient, now=now, is_fallback=context.is_fallback)
        fail_hooks(task, [(e.task_input, e.outcome.error_message) for e in failed])
        Batch.objects.filter(pk=batch.pk).update(
            items_applied=F("items_applied") + len(applied),
            items_failed=F("items_failed") + len(failed),
            tokens_in=F("tokens_in") + sum(e.outcome.tokens_in for e in entries),
            tokens_out=F("tokens_out") + sum(e.outcome.tokens_out for e in entries),
            cost_usd=F("cost_usd") + sum((row["cost_usd"] for row in rows), Decimal(0)),
        )
    report.applied += len(applied)
    report.failed += len(failed)


def _commit_without_waiting() -> None:
    """PostgreSQL: this chunk's commit does not wait for its WAL to reach the disk (about 20 ms a chunk
    here). A database crash can lose only the last chunks committed, each whole (ledger rows, applies
    and item states together), and a rerun ingests them again; a later ordinary commit (the part's
    `ingested_at`, the settlement) flushes every chunk before it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _judge(task: LLMTask, item: _Item, line: ResultLine) -> _Entry:
    model = task.input_model
    try:
        if isinstance(item.input, str):
            task_input = model.model_validate_json(item.input)
        else:
            task_input = model.model_validate(item.input)
    except pydantic.ValidationError as exc:
        outcome = LineOutcome(None, INVALID_INPUT, f"The stored input no longer fits the task: {str(exc)[:300]}")
        return _Entry(item, None, outcome, answered=False)
    outcome = interpret_result(task, task_input, line)
    return _Entry(item, task_input, outcome, answered=line.status_code is not None)


def _apply(context: _Context, entries: list[_Entry], *, now: Any) -> dict[int, str]:
    """Apply outputs (bulk when the task can); a bad item is isolated, the others still apply."""
    task, batch = context.task, context.batch
    if not entries or (task.apply is None and task.apply_many is None):
        return {}
    payload = [
        (
            entry.task_input,
            entry.outcome.output,
            Provenance(
                task=task.name,
                task_version=batch.task_version,
                provider="fallback" if context.is_fallback else batch.provider,
                model="rule-based" if context.is_fallback else batch.model,
                is_fallback=context.is_fallback,
                generated_at=now,
                call_id=entry.call_id,
                fallback_reason=str(ErrorKind.OFFLINE) if context.is_fallback else "",
            ),
        )
        for entry in entries
    ]
    if task.apply_many is not None:
        try:
            with transaction.atomic():
                task.apply_many(payload)
            return {}
        except APPLY_ERRORS:
            logger.warning("batch %s: apply_many failed; applying one by one", batch.batch_id, exc_info=True)
    errors: dict[int, str] = {}
    for entry, args in zip(entries, payload, strict=True):
        try:
            with transaction.atomic():
                if task.apply is not None:
                    task.apply(*args)
                elif task.apply_many is not None:
                    task.apply_many([args])
        except APPLY_ERRORS as exc:
            errors[entry.item.pk] = f"Applying the output failed: {type(exc).__name__}: {exc}"[:500]
    return errors


def _write_items(
    applied: list[_Entry], failed: list[_Entry], transient: list[_Entry], *, now: Any, is_fallback: bool
) -> None:
    rows_update(
        model=BatchItem,
        fields=["llm_call", "output_summary"],
        rows=[(e.item.pk, e.call_id, e.outcome.summary) for e in applied],
        constants={
            "status": BatchItem.Status.APPLIED,
            "applied_at": now,
            "is_fallback": is_fallback,
            "error_class": "",
            "error_message": "",
        },
    )
    final = {id(entry) for entry in failed}
    rows_update(
        model=BatchItem,
        fields=["status", "error_class", "error_message", "llm_call"],
        rows=[
            (
                entry.item.pk,
                BatchItem.Status.FAILED if id(entry) in final else BatchItem.Status.SUBMITTED,
                entry.outcome.error_class[:40],
                entry.outcome.error_message[:500] or entry.outcome.error_class,
                entry.call_id,
            )
            for entry in failed + transient
        ],
    )
