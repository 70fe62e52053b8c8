"""Polling provider jobs (at most once a minute per batch) and cancelling batches."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from batches.models import Batch, BatchPart
from batches.services.common import ACTIVE, FINISHED, TERMINAL_PARTS, batch_provider, claim_poll, logger
from batches.services.ingest import batch_settle
from batches.services.remote import batch_rollup, part_create_job, part_mirror
from config.errors import ConflictError
from llm.batching import BatchProviderError, remote_batch_cancel, remote_batch_retrieve


def batch_poll(*, batch: Batch, min_interval_s: float | None = None) -> Batch:
    """Refresh the batch from the provider: part statuses, counts and result file ids.

    Skipped (the batch is returned as stored) when it was polled less than `min_interval_s` ago
    (default BATCH_POLL_MIN_INTERVAL_S, one minute) or when nothing is running at the provider.
    Parts waiting out Azure's token limit get their job created again once their backoff is over.
    """
    interval = settings.BATCH_POLL_MIN_INTERVAL_S if min_interval_s is None else min_interval_s
    batch.refresh_from_db()
    if batch.status not in ACTIVE or batch.provider == "offline":
        return batch
    if not claim_poll(batch=batch, min_interval_s=interval):
        return batch
    config = batch_provider(batch)
    now = timezone.now()
    for part in batch.parts.exclude(status__in=TERMINAL_PARTS).order_by("number"):
        part.batch = batch
        if part.status == BatchPart.Status.UPLOADED:
            if batch.cancel_requested_at is not None:
                part.status, part.completed_at = BatchPart.Status.CANCELLED, now
                part.save(update_fields=["status", "completed_at"])
            elif part.retry_at is None or part.retry_at <= now:
                part_create_job(part=part, config=config)
            continue
        if not part.provider_job_id:
            continue
        try:
            remote = remote_batch_retrieve(config=config, job_id=part.provider_job_id)
        except BatchProviderError as exc:
            # One failed poll changes nothing: the next one (a minute later) tries again.
            logger.warning("batch %s part %d: poll failed: %s", batch.batch_id, part.number, exc.message)
            continue
        part_mirror(part=part, remote=remote)
    batch_rollup(batch=batch)
    return batch


def batch_cancel(*, batch: Batch) -> Batch:
    """Cancel a batch. Before submission its items fail as cancelled at once; afterwards the
    provider stops its jobs, and the next ingest applies what finished and fails the rest
    ("cancelled on request": cancelled items are not resubmitted automatically)."""
    batch.refresh_from_db()
    now = timezone.now()
    if batch.status in (Batch.Status.CREATED, Batch.Status.BUILT, Batch.Status.AWAITING_APPROVAL):
        with transaction.atomic():
            claimed = Batch.objects.filter(pk=batch.pk, status=batch.status).update(
                status=Batch.Status.CANCELLED, cancel_requested_at=now, completed_at=now
            )
            if not claimed:
                raise ConflictError(f"Batch {batch.batch_id} changed while cancelling; try again.")
            batch.refresh_from_db()
            batch_settle(batch=batch)
        batch.refresh_from_db()
        return batch
    if batch.status == Batch.Status.CANCELLING:
        return batch
    if batch.status not in ACTIVE:
        if batch.status in FINISHED or batch.status == Batch.Status.INGESTED:
            raise ConflictError(f"Batch {batch.batch_id} has already finished ({batch.status}).")
        raise ConflictError(f"Batch {batch.batch_id} is {batch.status}; try again in a moment.")
    config = batch_provider(batch)
    Batch.objects.filter(pk=batch.pk).update(cancel_requested_at=now)
    batch.cancel_requested_at = now
    for part in batch.parts.exclude(status__in=TERMINAL_PARTS).order_by("number"):
        part.batch = batch
        if not part.provider_job_id:
            part.status, part.completed_at = BatchPart.Status.CANCELLED, now
            part.save(update_fields=["status", "completed_at"])
            continue
        try:
            part_mirror(part=part, remote=remote_batch_cancel(config=config, job_id=part.provider_job_id))
        except BatchProviderError as exc:
            # Usually "already finished": the next poll records the real final state.
            logger.warning("batch %s part %d: cancel failed: %s", batch.batch_id, part.number, exc.message)
    batch_rollup(batch=batch)
    return batch
