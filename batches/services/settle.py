"""Settling a batch: every item still open after its results were read (expired, cancelled,
lost, transient line errors) ends resubmitted in a new batch within the retry budget, or failed
with a reason and the task's `fail` hook. Together with ingest this makes every custom_id end in
exactly one state: applied, resubmitted or failed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pydantic
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from pydantic import BaseModel

from batches.models import Batch, BatchItem, BatchPart
from batches.services.common import TERMINAL_PARTS, batch_task, logger
from batches.services.create import UPDATE_CHUNK, batch_create_retry
from llm.batching import EXPIRED, TOKEN_LIMIT_EXCEEDED
from llm.errors import ErrorKind
from llm.providers import provider_config
from llm.runtime import APPLY_ERRORS
from llm.task import LLMTask

MISSING_RESULT = "missing_result"
CANCELLED = "cancelled"
PROVIDER_CANCELLED = "batch_cancelled"
BATCH_FAILED = "batch_failed"
APPLY_FAILED = "apply_failed"
INVALID_INPUT = "invalid_input"
INPUT_FILE_MISSING = "input_file_missing"  # a part's JSONL vanished before upload: a new batch rebuilds it
# What resubmitting can clear (DESIGN.md §5.3: never quota, auth or validation errors).
RETRYABLE = frozenset(
    {
        str(ErrorKind.RATE_LIMIT),
        str(ErrorKind.TIMEOUT),
        str(ErrorKind.SERVER),
        str(ErrorKind.CONFLICT),
        EXPIRED,
        MISSING_RESULT,
        PROVIDER_CANCELLED,
        TOKEN_LIMIT_EXCEEDED,
        INPUT_FILE_MISSING,
    }
)


def fail_hooks(task: LLMTask, failures: list[tuple[BaseModel | None, str]]) -> None:
    """Tell the domain an input failed for good; one hook's error must not undo the others."""
    if task.fail is None:
        return
    for task_input, reason in failures:
        if task_input is None:
            continue
        try:
            with transaction.atomic():
                task.fail(task_input, reason)
        except APPLY_ERRORS:
            logger.exception("LLM task %s: fail hook raised", task.label)


def _reason(batch: Batch, part: BatchPart | None) -> tuple[str, str]:
    """Why an item with no result line did not finish, from how its part (or batch) ended."""
    if part is None or part.status not in TERMINAL_PARTS:
        if batch.cancel_requested_at is not None:
            return CANCELLED, "Cancelled on request before submission."
        return BATCH_FAILED, batch.error_message or "The batch failed before it reached the provider."
    if part.status == BatchPart.Status.COMPLETED:
        return MISSING_RESULT, "The provider returned no result line for this item."
    if part.status == BatchPart.Status.EXPIRED:
        return EXPIRED, "The batch expired (24 h window) before this line was processed."
    if part.status == BatchPart.Status.CANCELLED:
        if batch.cancel_requested_at is not None:
            return CANCELLED, "Cancelled on request before this line was processed."
        return PROVIDER_CANCELLED, "The provider cancelled the batch before this line was processed."
    return (part.error_code or BATCH_FAILED), (part.error_message or "The provider failed the batch.")


@dataclass(frozen=True)
class Settlement:
    failed: int = 0
    resubmitted: int = 0
    retry_batch: Batch | None = None


def batch_settle(*, batch: Batch) -> Settlement:
    """End every open item: resubmit what can clear within BATCH_MAX_RESUBMITS, fail the rest.

    Runs once per batch (the batch row is locked and `ingested_at` is its mark); the settlement
    names the new batch holding the resubmitted items, if any (recorded, not built or submitted).
    """
    max_resubmits = int(settings.BATCH_MAX_RESUBMITS)
    task = batch_task(batch)
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.ingested_at is not None:
            return Settlement()
        parts = {part.pk: part for part in locked.parts.all()}
        # (target status, error_class, error_message or None to keep the item's own) → item ids
        groups: dict[tuple[str, str, str | None], list[int]] = defaultdict(list)
        # Row locks: an item another ingest has claimed but not committed is waited for, then
        # re-checked (PostgreSQL re-evaluates the status condition), so it is never settled twice.
        open_items = (
            BatchItem.objects.select_for_update()
            .filter(batch=locked, status__in=[BatchItem.Status.PENDING, BatchItem.Status.SUBMITTED])
            .order_by("pk")
            .values_list("pk", "attempts", "error_class", "error_message", "part_id")
        )
        for pk, attempts, error_class, error_message, part_id in open_items.iterator(chunk_size=2000):
            own = bool(error_class)
            if not own:
                error_class, error_message = _reason(locked, parts.get(part_id))
            if error_class in RETRYABLE and attempts <= max_resubmits:
                groups[(BatchItem.Status.RESUBMITTED, error_class, None if own else error_message)].append(pk)
                continue
            if error_class in RETRYABLE:
                error_message = (
                    f"{error_message} Not resubmitted: {attempts} submission(s) made, "
                    f"BATCH_MAX_RESUBMITS={max_resubmits}."
                )
                own = False
            groups[(BatchItem.Status.FAILED, error_class, None if own else error_message)].append(pk)

        retry_ids = [
            pk for (status, _, _), ids in groups.items() if status == BatchItem.Status.RESUBMITTED for pk in ids
        ]
        retry = batch_create_retry(batch=locked, item_ids=retry_ids, config=provider_config()) if retry_ids else None
        failed_ids: list[int] = []
        for (status, group_class, group_message), ids in groups.items():
            values: dict[str, Any] = {"status": status, "error_class": group_class[:40]}
            if group_message is not None:
                values["error_message"] = group_message[:500]
            for start in range(0, len(ids), UPDATE_CHUNK):
                BatchItem.objects.filter(pk__in=ids[start : start + UPDATE_CHUNK]).update(**values)
            if status == BatchItem.Status.FAILED:
                failed_ids.extend(ids)
        _settle_fail_hooks(task, failed_ids)
        never_submitted = locked.status == Batch.Status.CANCELLED and locked.submitted_at is None
        Batch.objects.filter(pk=locked.pk).update(
            items_failed=F("items_failed") + len(failed_ids),
            items_resubmitted=F("items_resubmitted") + len(retry_ids),
            status=Batch.Status.CANCELLED if never_submitted else Batch.Status.INGESTED,
            ingested_at=timezone.now(),
        )
    logger.info(
        "batch %s settled: %d failed, %d resubmitted%s",
        batch.batch_id,
        len(failed_ids),
        len(retry_ids),
        f" as {retry.batch_id}" if retry else "",
    )
    return Settlement(failed=len(failed_ids), resubmitted=len(retry_ids), retry_batch=retry)


def _settle_fail_hooks(task: LLMTask, item_ids: list[int]) -> None:
    if task.fail is None:
        return
    for start in range(0, len(item_ids), UPDATE_CHUNK):
        rows = BatchItem.objects.filter(pk__in=item_ids[start : start + UPDATE_CHUNK]).values_list(
            "input", "error_message"
        )
        failures: list[tuple[BaseModel | None, str]] = []
        for raw_input, reason in rows:
            try:
                failures.append((task.input_model.model_validate(raw_input), reason))
            except pydantic.ValidationError:
                logger.warning("LLM task %s: a failed item's input no longer validates", task.label)
        fail_hooks(task, failures)
