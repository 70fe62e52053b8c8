"""Talking to the provider about parts: creating jobs (with Azure token-limit backoff), mirroring
their state, and rolling the parts' states up into the batch's."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from batches.models import Batch, BatchPart
from batches.services.common import TERMINAL_PARTS
from llm.batching import TOKEN_LIMIT_EXCEEDED, BatchProviderError, RemoteBatch, remote_batch_create
from llm.providers import ProviderConfig

logger = logging.getLogger("contentops.batches")

PROVIDER_STATUSES = {
    "validating": BatchPart.Status.VALIDATING,
    "in_progress": BatchPart.Status.IN_PROGRESS,
    "finalizing": BatchPart.Status.FINALIZING,
    "completed": BatchPart.Status.COMPLETED,
    "failed": BatchPart.Status.FAILED,
    "expired": BatchPart.Status.EXPIRED,
    "cancelling": BatchPart.Status.CANCELLING,
    "cancelled": BatchPart.Status.CANCELLED,
}
# Non-final parts, least advanced first: a batch is as far along as its slowest part.
_PROGRESS = [
    (BatchPart.Status.BUILT, Batch.Status.SUBMITTED),
    (BatchPart.Status.UPLOADED, Batch.Status.SUBMITTED),
    (BatchPart.Status.VALIDATING, Batch.Status.SUBMITTED),
    (BatchPart.Status.IN_PROGRESS, Batch.Status.IN_PROGRESS),
    (BatchPart.Status.FINALIZING, Batch.Status.FINALIZING),
    (BatchPart.Status.CANCELLING, Batch.Status.CANCELLING),
]


def create_backoff_s(attempt: int) -> float:
    """Seconds before creating a job again after `attempt` failed creations (exponential, capped)."""
    base = float(settings.BATCH_CREATE_BACKOFF_S)
    return min(base * 2 ** max(attempt - 1, 0), float(settings.BATCH_CREATE_BACKOFF_MAX_S))


def _schedule_create_retry(part: BatchPart, *, code: str, message: str) -> bool:
    """Queue the part's job for creating again later; False when its attempts are used up."""
    if part.create_attempts >= int(settings.BATCH_CREATE_MAX_ATTEMPTS):
        return False
    part.status = BatchPart.Status.UPLOADED
    part.provider_job_id = ""
    part.retry_at = timezone.now() + timedelta(seconds=create_backoff_s(part.create_attempts))
    part.error_code, part.error_message = code[:60], message
    logger.warning(
        "batch %s part %d: job creation failed (%s), attempt %d; retrying at %s",
        part.batch.batch_id,
        part.number,
        code,
        part.create_attempts,
        part.retry_at.isoformat(),
    )
    return True


def part_create_job(*, part: BatchPart, config: ProviderConfig) -> None:
    """Create the provider job for an uploaded part; transient refusals are retried later with backoff."""
    part.create_attempts += 1
    try:
        remote = remote_batch_create(
            config=config,
            input_file_id=part.input_file_id,
            metadata={"contentops_batch": part.batch.batch_id, "contentops_part": str(part.number)},
        )
    except BatchProviderError as exc:
        code = exc.provider_code or exc.kind
        if not (exc.retryable and _schedule_create_retry(part, code=code, message=exc.message)):
            part.status = BatchPart.Status.FAILED
            part.error_code, part.error_message = code[:60], exc.message
            part.completed_at = timezone.now()
        part.save()
        return
    part.submitted_at = timezone.now()
    part.retry_at = None
    part.error_code = part.error_message = ""  # earlier refusals are history: create_attempts counts them
    part_mirror(part=part, remote=remote)


def part_mirror(*, part: BatchPart, remote: RemoteBatch) -> None:
    """Copy the provider's view of the job onto the part (Azure's token limit → create again later)."""
    part.provider_job_id = remote.id
    status = PROVIDER_STATUSES.get(remote.status)
    if status is None:
        logger.warning("batch %s part %d: unknown provider status %r", part.batch.batch_id, part.number, remote.status)
        return
    if status == BatchPart.Status.FAILED and TOKEN_LIMIT_EXCEEDED in remote.error_codes:
        # Azure accepts the job, then fails it while too many tokens are enqueued: wait and retry.
        message = next(m for c, m in remote.errors if c == TOKEN_LIMIT_EXCEEDED)
        if _schedule_create_retry(part, code=TOKEN_LIMIT_EXCEEDED, message=message):
            part.save()
            return
    part.status = status
    part.output_file_id = remote.output_file_id
    part.error_file_id = remote.error_file_id
    part.request_total, part.request_completed, part.request_failed = remote.total, remote.completed, remote.failed
    if remote.errors:
        part.error_code = remote.errors[0][0][:60]
        part.error_message = "; ".join(f"{c}: {m}" for c, m in remote.errors[:5])
    if status in TERMINAL_PARTS and part.completed_at is None:
        part.completed_at = timezone.now()
    part.save()


def batch_rollup(*, batch: Batch) -> None:
    """Derive the batch's status and request counts from its parts (saves the batch)."""
    parts = list(batch.parts.all())
    totals = batch.parts.aggregate(
        total=Sum("request_total"), completed=Sum("request_completed"), failed=Sum("request_failed")
    )
    batch.request_total = totals["total"] or 0
    batch.request_completed = totals["completed"] or 0
    batch.request_failed = totals["failed"] or 0
    statuses = {part.status for part in parts}
    if statuses and statuses <= TERMINAL_PARTS:
        if BatchPart.Status.CANCELLED in statuses:
            batch.status = Batch.Status.CANCELLED
        elif BatchPart.Status.EXPIRED in statuses:
            batch.status = Batch.Status.EXPIRED
        elif BatchPart.Status.FAILED in statuses:
            batch.status = Batch.Status.FAILED
            failed = next(p for p in parts if p.status == BatchPart.Status.FAILED)
            batch.error_message = batch.error_message or failed.error_message
        else:
            batch.status = Batch.Status.COMPLETED
        batch.completed_at = batch.completed_at or timezone.now()
    else:
        pending = [status for part_status, status in _PROGRESS if part_status in statuses]
        batch.status = pending[0] if pending else Batch.Status.SUBMITTED
        if batch.cancel_requested_at is not None:
            batch.status = Batch.Status.CANCELLING
    batch.save(
        update_fields=[
            "status",
            "request_total",
            "request_completed",
            "request_failed",
            "completed_at",
            "error_message",
        ]
    )
