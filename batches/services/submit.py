"""Submitting a batch: upload each part and create its provider job, or, with the offline
provider, answer every line locally from the task's fallback into an output file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F
from django.utils import timezone

from batches.models import Batch, BatchItem, BatchPart
from batches.services.common import (
    FINISHED,
    BatchLock,
    batch_lock,
    batch_provider,
    batch_task,
    logger,
    part_path,
)
from batches.services.create import batch_build
from batches.services.remote import batch_rollup, part_create_job
from batches.services.settle import INPUT_FILE_MISSING
from config.errors import ConflictError, DomainError
from llm.batching import BatchProviderError, batch_file_upload, fallback_result_line
from llm.providers import ProviderConfig
from llm.selectors import llm_spend_today

SUBMITTABLE = (Batch.Status.CREATED, Batch.Status.BUILT, Batch.Status.SUBMITTING)
LOCAL_CHUNK = 1000


class BatchAwaitingApprovalError(ConflictError):
    code = "batch_awaiting_approval"


class DailyBudgetExceededError(ConflictError):
    code = "daily_budget_exceeded"


def batch_submit_check(*, batch: Batch) -> None:
    """ConflictError unless the batch can be submitted (new, built, or an interrupted submission)."""
    if batch.status == Batch.Status.AWAITING_APPROVAL:
        raise BatchAwaitingApprovalError(
            f"Batch {batch.batch_id} is awaiting approval: its estimated cost ${batch.estimated_cost_usd:.2f} is "
            f"above BATCH_APPROVAL_USD (${settings.BATCH_APPROVAL_USD:.2f}); a staff member approves it in the admin."
        )
    if batch.status not in SUBMITTABLE:
        if batch.status in (Batch.Status.CANCELLED, Batch.Status.INGESTED, *FINISHED):
            raise ConflictError(f"Batch {batch.batch_id} is {batch.status}; it has already finished.")
        raise ConflictError(f"Batch {batch.batch_id} is {batch.status}; it was already submitted.")


def batch_budget_check(*, batch: Batch) -> None:
    """DailyBudgetExceededError when today's spend plus the batch's estimate would pass LLM_DAILY_BUDGET_USD."""
    budget = Decimal(str(settings.LLM_DAILY_BUDGET_USD))
    if budget <= 0 or batch.estimated_cost_usd <= 0:
        return
    spent = llm_spend_today()
    if spent + batch.estimated_cost_usd > budget:
        raise DailyBudgetExceededError(
            f"Batch {batch.batch_id} is not submitted: today's LLM spend ${spent:.2f} plus its estimate "
            f"${batch.estimated_cost_usd:.2f} would pass the daily budget ${budget:.2f} (LLM_DAILY_BUDGET_USD). "
            "It waits, built, and is submitted once the day's budget allows it."
        )


def batch_approve(*, batch: Batch, user: User | AnonymousUser | None) -> Batch:
    """A staff member accepts a costly batch's estimate: awaiting approval → built (then submitted)."""
    now = timezone.now()
    approved = Batch.objects.filter(pk=batch.pk, status=Batch.Status.AWAITING_APPROVAL).update(
        status=Batch.Status.BUILT,
        approved_at=now,
        approved_by=user if user is not None and user.is_authenticated else None,
    )
    batch.refresh_from_db()
    if not approved:
        raise ConflictError(f"Batch {batch.batch_id} is {batch.status}; only a batch awaiting approval is approved.")
    return batch


def batch_needs_build(*, batch: Batch) -> bool:
    """New, or nothing sent yet and a part's input file is gone (a wiped disk, another host)."""
    if batch.status == Batch.Status.CREATED:
        return True
    if batch.status not in SUBMITTABLE:
        return False
    parts = list(batch.parts.all())
    if not parts:
        return True
    if any(part.status != BatchPart.Status.BUILT or part.input_file_id or part.provider_job_id for part in parts):
        return False  # some of it is at the provider (or answered locally): the rest cannot be rebuilt apart
    return any(not part_path(part, "input", batch=batch).exists() for part in parts)


def batch_submit(*, batch: Batch) -> Batch:
    """Upload the batch's files and create its provider jobs (offline: process them locally).

    Resumable: a submit interrupted after some uploads continues where it stopped. A transient
    provider error is raised and leaves the batch `submitting` (submit again, or the scheduler
    will); a permanent one (auth, bad request) fails the parts not sent, with the reason, and their
    items fail with it at ingest.
    """
    with batch_lock(batch) as lock:
        batch.refresh_from_db()
        batch_submit_check(batch=batch)
        resuming = batch.status == Batch.Status.SUBMITTING
        if batch_needs_build(batch=batch):
            if batch.status == Batch.Status.SUBMITTING:  # interrupted before anything was sent
                Batch.objects.filter(pk=batch.pk, status=Batch.Status.SUBMITTING).update(status=Batch.Status.BUILT)
            batch_build(batch=batch)
            batch_submit_check(batch=batch)  # a costly batch stops here, awaiting approval
        config = None if batch.provider == "offline" else batch_provider(batch)
        if config is not None and not resuming:
            batch_budget_check(batch=batch)
        now = timezone.now()
        Batch.objects.filter(pk=batch.pk).update(
            status=Batch.Status.SUBMITTING, submitted_at=now, last_polled_at=now, error_message=""
        )
        batch.status, batch.submitted_at, batch.last_polled_at, batch.error_message = (
            Batch.Status.SUBMITTING,
            now,
            now,
            "",
        )
        # Items count a submission once, even when an interrupted submit is repeated.
        BatchItem.objects.filter(batch=batch, status=BatchItem.Status.PENDING).update(
            status=BatchItem.Status.SUBMITTED, attempts=F("attempts") + 1
        )
        parts = list(batch.parts.order_by("number"))
        if config is None:
            for part in parts:
                _process_locally(batch=batch, part=part)
                _keep(lock, batch)
        else:
            _submit_parts(batch=batch, parts=parts, config=config, lock=lock)
        batch_rollup(batch=batch)
    logger.info("batch %s submitted: %d item(s), status %s", batch.batch_id, batch.item_count, batch.status)
    return batch


def _keep(lock: BatchLock, batch: Batch) -> None:
    """Renew the batch's lease between parts; stop if another worker took it over meanwhile."""
    if not lock.refresh():
        raise ConflictError(f"Batch {batch.batch_id}: this submit lost its lease; another worker resumes it.")


def _submit_parts(*, batch: Batch, parts: list[BatchPart], config: ProviderConfig, lock: BatchLock) -> None:
    for index, part in enumerate(parts):
        part.batch = batch
        if part.status not in (BatchPart.Status.BUILT, BatchPart.Status.UPLOADED) or part.retry_at:
            continue  # created already, or waiting out a backoff (the poll creates it then)
        if not part.input_file_id:
            path = part_path(part, "input", batch=batch)
            if not path.exists():
                # Other parts are at the provider already, so the batch cannot be rebuilt as a whole:
                # this part's items end with a reason that resubmits them (rebuilt from their inputs).
                _parts_fail(
                    parts=[part],
                    code=INPUT_FILE_MISSING,
                    message=f"The part's input file was gone before upload ({part.filename}).",
                )
                continue
            try:
                part.input_file_id = batch_file_upload(config=config, path=path, filename=part.filename)
            except BatchProviderError as exc:
                if exc.retryable:
                    # Stay `submitting`: a later submit (or the scheduler) resumes with this upload.
                    Batch.objects.filter(pk=batch.pk).update(error_message=exc.message)
                    batch.error_message = exc.message
                    raise
                # Refused for good (auth, bad file): this part and the ones not sent yet fail with
                # the reason; parts already at the provider still finish and are ingested.
                _parts_fail(parts=parts[index:], code=exc.kind, message=exc.message)
                return
            part.status = BatchPart.Status.UPLOADED
            part.save(update_fields=["input_file_id", "status"])
        part_create_job(part=part, config=config)
        _keep(lock, batch)


def _parts_fail(*, parts: list[BatchPart], code: str, message: str) -> None:
    now = timezone.now()
    for part in parts:
        if part.status in (BatchPart.Status.BUILT, BatchPart.Status.UPLOADED) and not part.provider_job_id:
            part.status, part.completed_at = BatchPart.Status.FAILED, now
            part.error_code, part.error_message = code[:60], message
            part.save(update_fields=["status", "completed_at", "error_code", "error_message"])


def _custom_ids(raw_lines: list[bytes]) -> list[str]:
    """The custom_id of each request line (we wrote them: the id is the first key)."""
    decoder = json.JSONDecoder()
    ids = []
    for raw in raw_lines:
        text = raw.decode()
        if not text.startswith('{"custom_id":'):
            raise DomainError("The batch input file is not one this service wrote; build it again.")
        ids.append(decoder.raw_decode(text, len('{"custom_id":'))[0])
    return ids


def _chunks(path_lines: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for raw in path_lines:
        if raw.strip():
            chunk.append(raw)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _process_locally(*, batch: Batch, part: BatchPart) -> None:
    """The offline provider: read the input JSONL, answer each line from the task's fallback.

    The output file has the provider's shape, so ingest is the same code path as for a real batch.
    """
    if part.status == BatchPart.Status.COMPLETED:
        return
    task = batch_task(batch)
    source = part_path(part, "input", batch=batch)
    target = part_path(part, "output", batch=batch)
    partial = target.with_name(target.name + ".part")
    answered = 0
    with source.open("rb") as lines, partial.open("wb") as out:
        for chunk in _chunks(lines, LOCAL_CHUNK):
            ids = _custom_ids(chunk)
            inputs = dict(BatchItem.objects.filter(batch=batch, custom_id__in=ids).values_list("custom_id", "input"))
            for custom_id in ids:
                task_input = task.input_model.model_validate(inputs[custom_id])
                out.write(fallback_result_line(task=task, custom_id=custom_id, task_input=task_input))
                answered += 1
    partial.replace(target)
    now = timezone.now()
    part.status = BatchPart.Status.COMPLETED
    part.provider_job_id = part.provider_job_id or f"local_{batch.batch_id}_{part.number}"
    part.request_total = part.request_completed = answered
    part.submitted_at = part.submitted_at or now
    part.completed_at = now
    part.save()
