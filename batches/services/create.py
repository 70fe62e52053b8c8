"""Creating a batch from task inputs, and building its JSONL files (streamed to disk, split at limits)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO, NamedTuple

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from pydantic import BaseModel

from batches.models import Batch, BatchItem, BatchPart
from batches.services.common import batch_dir, batch_task, new_batch_id, part_path
from batches.services.rows import JSONText, gc_paused, rows_insert
from config.errors import ConflictError, DomainError
from llm.batching import LineBuilder, batch_limits
from llm.providers import ProviderConfig, provider_config
from llm.task import LLMTask, get_task
from llm.usage import estimate_cost

WRITE_CHUNK = 1000
UPDATE_CHUNK = 1000
READ_CHUNK = 2000
MAX_CUSTOM_ID = 100


class ItemSpec(NamedTuple):
    """One line to be: a custom_id unique in the batch, the task input, and optionally its subject."""

    custom_id: str
    task_input: BaseModel
    subject: tuple[str, Any] | None = None


# Every column of a new item, so the COPY path needs no database defaults.
ITEM_FIELDS = (
    "batch",
    "custom_id",
    "subject_type",
    "subject_id",
    "input",
    "status",
    "attempts",
    "error_class",
    "error_message",
    "output_summary",
    "is_fallback",
    "applied_at",
    "llm_call",
    "retry_of",
    "part",
)


def _item_row(
    batch_pk: int,
    custom_id: str,
    subject_type_id: int | None,
    subject_id: str,
    raw_input: dict[str, Any] | JSONText,
    *,
    attempts: int = 0,
    retry_of: int | None = None,
    part: int | None = None,
) -> tuple[Any, ...]:
    pending = BatchItem.Status.PENDING.value
    return (
        batch_pk,
        custom_id,
        subject_type_id,
        subject_id,
        raw_input,
        pending,
        attempts,
        "",
        "",
        "",
        False,
        None,
        None,
        retry_of,
        part,
    )


class _ContentTypes:
    """("app.model", pk) → (content type id, pk string), one lookup per model."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def resolve(self, subject: tuple[str, Any] | None) -> tuple[int | None, str]:
        if subject is None:
            return None, ""
        label, pk = subject
        if label not in self._ids:
            app_label, model = label.lower().split(".")
            self._ids[label] = ContentType.objects.get_by_natural_key(app_label, model).pk
        return self._ids[label], str(pk)


def _check_task(task: LLMTask) -> None:
    try:
        registered = get_task(task.name)
    except KeyError:
        registered = None
    if registered is not task:
        raise DomainError(
            f"LLM task {task.name!r} is not registered (llm.task.register): a batch finds its task by name at ingest.",
            code="task_not_registered",
        )


ItemSpecLike = ItemSpec | tuple[str, BaseModel] | tuple[str, BaseModel, tuple[str, Any] | None]


def batch_create(
    *,
    task: LLMTask,
    items: Iterable[ItemSpecLike],
    name: str = "",
    created_by: User | AnonymousUser | None = None,
    build: bool = True,
) -> Batch:
    """Record a batch of `task` inputs (bulk inserts in chunks) and, with `build`, write its JSONL
    files as it goes (each item inserted with its part).

    Refuses an empty batch, a bad or duplicate custom_id, or an input of the wrong type before
    anything is written or uploaded (recording is one transaction: a refusal leaves nothing).
    """
    with gc_paused():
        return _batch_record(task=task, items=items, name=name, created_by=created_by, build=build)


def _batch_record(
    *, task: LLMTask, items: Iterable[ItemSpecLike], name: str, created_by: User | AnonymousUser | None, build: bool
) -> Batch:
    _check_task(task)
    config = provider_config()
    writer: _PartWriter | None = None
    try:
        with transaction.atomic():
            batch = _batch_row(task=task, config=config, name=name, created_by=created_by)
            if build:
                writer = _PartWriter(batch, task, config)
            _items_record(batch=batch, task=task, items=items, writer=writer)
            if writer is not None:
                writer.finish()
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    return batch


def _batch_row(*, task: LLMTask, config: ProviderConfig, name: str, created_by: User | AnonymousUser | None) -> Batch:
    return Batch.objects.create(
        batch_id=new_batch_id(),
        name=name[:200],
        task_name=task.name,
        task_version=task.version,
        provider=config.kind,
        model=config.model,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )


def _items_record(*, batch: Batch, task: LLMTask, items: Iterable[ItemSpecLike], writer: _PartWriter | None) -> None:
    """Insert the items (COPY in chunks); with a `writer`, each one's request line is written to its
    part file as it goes and the item is inserted with its part already set."""
    content_types = _ContentTypes()
    seen: set[str] = set()
    rows: list[tuple[Any, ...]] = []
    for spec in items:
        custom_id, task_input, *rest = spec
        subject = rest[0] if rest else None
        if not isinstance(custom_id, str) or not custom_id or len(custom_id) > MAX_CUSTOM_ID:
            raise DomainError(
                f"custom_id must be a string of 1 to {MAX_CUSTOM_ID} characters, got {custom_id!r}.",
                code="invalid_custom_id",
            )
        if custom_id in seen:
            raise DomainError(
                f"Duplicate custom_id {custom_id!r}: every line of a batch needs its own id.",
                code="duplicate_custom_id",
                detail={"custom_id": custom_id},
            )
        if not isinstance(task_input, task.input_model):
            raise DomainError(
                f"Item {custom_id!r} is a {type(task_input).__name__}, not the task's {task.input_model.__name__}.",
                code="invalid_task_input",
            )
        seen.add(custom_id)
        if subject is None and task.subject is not None:
            subject = task.subject(task_input)
        subject_type_id, subject_id = content_types.resolve(subject)
        raw_input = JSONText(task_input.model_dump_json())
        part = None if writer is None else writer.write(custom_id, raw_input)
        rows.append(_item_row(batch.pk, custom_id, subject_type_id, subject_id, raw_input, part=part))
        if len(rows) >= WRITE_CHUNK:
            rows_insert(model=BatchItem, fields=ITEM_FIELDS, rows=rows)
            rows.clear()
    rows_insert(model=BatchItem, fields=ITEM_FIELDS, rows=rows)
    if not seen:
        raise DomainError("A batch needs at least one item.", code="empty_batch")
    batch.item_count = len(seen)
    batch.save(update_fields=["item_count"])


def batch_create_retry(*, batch: Batch, item_ids: list[int], config: ProviderConfig) -> Batch:
    """A new batch (retry_of=batch) with copies of these items; callers hold a transaction."""
    task = batch_task(batch)
    generation = 1
    ancestor = batch
    while ancestor.retry_of_id is not None and generation < 50:
        generation += 1
        ancestor = Batch.objects.only("retry_of_id").get(pk=ancestor.retry_of_id)
    base_name = (batch.name or batch.task_name).split(" (retry ")[0]
    retry = Batch.objects.create(
        batch_id=new_batch_id(),
        name=f"{base_name} (retry {generation})"[:200],
        task_name=task.name,
        task_version=task.version,
        provider=config.kind,
        model=config.model,
        retry_of=batch,
        created_by_id=batch.created_by_id,
        item_count=len(item_ids),
        # Resubmitting what staff approved (or what needed no approval) needs no second approval.
        approved_at=batch.approved_at,
        approved_by_id=batch.approved_by_id,
    )
    fields = ("id", "custom_id", "subject_type_id", "subject_id", "input", "attempts")
    for start in range(0, len(item_ids), WRITE_CHUNK):
        chunk = item_ids[start : start + WRITE_CHUNK]
        rows = [
            _item_row(retry.pk, custom_id, subject_type_id, subject_id, raw_input, attempts=attempts, retry_of=pk)
            for pk, custom_id, subject_type_id, subject_id, raw_input, attempts in BatchItem.objects.filter(
                pk__in=chunk
            )
            .order_by("pk")
            .values_list(*fields)
        ]
        rows_insert(model=BatchItem, fields=ITEM_FIELDS, rows=rows)
    return retry


@dataclass
class _PartFile:
    number: int
    lines: int = 0
    size: int = 0
    first_id: int | None = None
    last_id: int | None = None


def _iter_items(batch: Batch) -> Iterator[tuple[int, str, str]]:
    """Items in id order with their input as JSON text, fetched by keyset pages (bounded memory, no
    long-lived cursor; the text is validated as it is, never decoded into dicts first)."""
    last = 0
    while True:
        page = list(
            BatchItem.objects.filter(batch=batch, pk__gt=last)
            .order_by("pk")
            .annotate(input_text=Cast("input", TextField()))
            .values_list("pk", "custom_id", "input_text")[:READ_CHUNK]
        )
        if not page:
            return
        yield from page
        last = page[-1][0]


def _effective_limits(config: ProviderConfig) -> tuple[int, int]:
    limits = batch_limits(config)
    max_lines = min(limits.max_lines, settings.BATCH_MAX_LINES or limits.max_lines)
    max_bytes = min(limits.max_bytes, settings.BATCH_MAX_BYTES or limits.max_bytes)
    return max_lines, max_bytes


class _PartWriter:
    """Request lines written to part files while the items are recorded (`batch_create`): a new part,
    and its row, starts before a file would pass the provider's line or byte limit, so each item is
    inserted with its part already set (no second write of every item row to set it)."""

    def __init__(self, batch: Batch, task: LLMTask, config: ProviderConfig) -> None:
        self.batch, self.task, self.config = batch, task, config
        self.max_lines, self.max_bytes = _effective_limits(config)
        self.builder = LineBuilder(task, config)
        self.directory = batch_dir(batch)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.parts: list[BatchPart] = []
        self.stream: BinaryIO | None = None

    def write(self, custom_id: str, raw_input: str) -> int:
        """Write the item's line (built from its input as stored, as a rebuild would); its part's id."""
        line = self.builder.line(custom_id, self.task.input_model.model_validate_json(raw_input))
        if len(line) > self.max_bytes:
            raise DomainError(f"Item {custom_id!r} alone is larger than the provider's file limit.")
        part, stream = (self.parts[-1] if self.parts else None), self.stream
        if (
            part is None
            or stream is None
            or part.line_count >= self.max_lines
            or part.byte_size + len(line) > self.max_bytes
        ):
            part, stream = self._start()
        stream.write(line)
        part.line_count += 1
        part.byte_size += len(line)
        return part.pk

    def _start(self) -> tuple[BatchPart, BinaryIO]:
        self._close()
        number = len(self.parts) + 1
        part = BatchPart.objects.create(
            batch=self.batch, number=number, filename=f"{self.batch.batch_id}/part-{number:03d}-input.jsonl"
        )
        self.parts.append(part)
        self.stream = stream = part_path(part, "input", batch=self.batch).open("wb")
        return part, stream

    def _close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    def finish(self) -> None:
        """Close the last file, record the parts' sizes, and mark the batch built (or awaiting approval)."""
        self._close()
        BatchPart.objects.bulk_update(self.parts, ["line_count", "byte_size"])
        _mark_built(self.batch, task=self.task, config=self.config, parts=self.parts)

    def discard(self) -> None:
        """The batch was refused: no file stays behind."""
        self._close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _mark_built(batch: Batch, *, task: LLMTask, config: ProviderConfig, parts: list[BatchPart]) -> None:
    estimate = batch_cost_estimate(
        task=task,
        config=config,
        lines=sum(part.line_count for part in parts),
        input_bytes=sum(part.byte_size for part in parts),
    )
    status = Batch.Status.BUILT
    if batch.approved_at is None and estimate > Decimal(str(settings.BATCH_APPROVAL_USD)):
        status = Batch.Status.AWAITING_APPROVAL
    Batch.objects.filter(pk=batch.pk).update(status=status, estimated_cost_usd=estimate)
    batch.status, batch.estimated_cost_usd = status, estimate


def batch_build(*, batch: Batch) -> list[BatchPart]:
    """Write the batch's JSONL request files under its directory, one per provider job.

    Lines are streamed to disk (never the whole file in memory) and a new part starts before a file
    would pass the provider's line or byte limit. Building again replaces the files.
    """
    with gc_paused():
        return _build(batch)


def _build(batch: Batch) -> list[BatchPart]:
    batch.refresh_from_db()
    if batch.status not in (Batch.Status.CREATED, Batch.Status.BUILT, Batch.Status.AWAITING_APPROVAL):
        raise ConflictError(f"Batch {batch.batch_id} is {batch.status}; only new batches can be built.")
    task = batch_task(batch)
    config = provider_config()
    max_lines, max_bytes = _effective_limits(config)
    builder = LineBuilder(task, config)
    directory = batch_dir(batch)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)

    files: list[_PartFile] = []
    current: _PartFile | None = None
    stream = None
    try:
        for pk, custom_id, raw_input in _iter_items(batch):
            line = builder.line(custom_id, task.input_model.model_validate_json(raw_input))
            if len(line) > max_bytes:
                raise DomainError(f"Item {custom_id!r} alone is larger than the provider's file limit.")
            if stream is None or current is None or current.lines >= max_lines or current.size + len(line) > max_bytes:
                if stream is not None:
                    stream.close()
                current = _PartFile(number=len(files) + 1, first_id=pk)
                files.append(current)
                stream = part_path(BatchPart(number=current.number), "input", batch=batch).open("wb")
            stream.write(line)
            current.lines += 1
            current.size += len(line)
            current.last_id = pk
    finally:
        if stream is not None:
            stream.close()

    with transaction.atomic():
        BatchPart.objects.filter(batch=batch).delete()
        parts = BatchPart.objects.bulk_create(
            BatchPart(
                batch=batch,
                number=f.number,
                filename=f"{batch.batch_id}/part-{f.number:03d}-input.jsonl",
                line_count=f.lines,
                byte_size=f.size,
            )
            for f in files
        )
        for part, f in zip(parts, files, strict=True):
            BatchItem.objects.filter(batch=batch, pk__gte=f.first_id, pk__lte=f.last_id).update(part=part)
        _mark_built(batch, task=task, config=config, parts=parts)
    return parts


def batch_cost_estimate(*, task: LLMTask, config: ProviderConfig, lines: int, input_bytes: int) -> Decimal:
    """USD a batch would cost at most: its request files as input (about 4 bytes a token, schema
    included) and every answer at the task's output cap, at batch prices. Local servers are free."""
    return estimate_cost(
        provider=config.kind,
        model=config.model,
        tokens_in=input_bytes // 4,
        tokens_out=lines * task.max_output_tokens,
        batch=True,
    )
