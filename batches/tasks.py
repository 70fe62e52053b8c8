"""Celery tasks for batches: thin, taking ids (never objects), each calling one service.

Safe to run twice (acks_late + reject_on_worker_lost redeliver a task whose worker died): submit
resumes, polls are rate-limited by a conditional update, and ingest claims items before applying.
The periodic ones are idempotent per period (config.periodic.periodic_once). Views and the admin
queue work through the `*_enqueue` functions, which check the batch's state first (a service).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from batches.models import Batch
from batches.selectors import batches_due
from batches.services import (
    batch_ingest,
    batch_ingest_check,
    batch_poll,
    batch_retry_failed,
    batch_submit,
    batch_submit_check,
    batches_reconcile,
)
from batches.services.common import FINISHED
from config.errors import ConflictError
from config.periodic import periodic_once
from llm.batching import BatchProviderError

logger = logging.getLogger("contentops.batches")
TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
POLL_PERIOD_S = 60
RECONCILE_PERIOD_S = 5 * 60


@shared_task(name="batches.batch_submit", **TASK_OPTIONS)
def batch_submit_task(batch_pk: int) -> None:
    batch = Batch.objects.filter(pk=batch_pk).first()
    if batch is None:
        return
    try:
        batch_submit(batch=batch)
    except ConflictError as exc:  # already submitted, or another worker is on it
        logger.info("batch %s: submit skipped: %s", batch.batch_id, exc.message)
    except BatchProviderError as exc:  # recorded on the batch; a transient one is resumed by the scheduler
        logger.warning("batch %s: submit failed: %s", batch.batch_id, exc.message)


@shared_task(name="batches.batch_ingest", **TASK_OPTIONS)
def batch_ingest_task(batch_pk: int) -> None:
    batch = Batch.objects.filter(pk=batch_pk).first()
    if batch is None:
        return
    try:
        report = batch_ingest(batch=batch)
    except ConflictError as exc:  # not finished yet, or another worker is ingesting it
        logger.info("batch %s: ingest skipped: %s", batch.batch_id, exc.message)
        return
    if report.retry_batch is not None:
        batch_submit_task.delay_on_commit(report.retry_batch.pk)


@shared_task(name="batches.batch_poll_due", **TASK_OPTIONS)
@periodic_once(period_s=POLL_PERIOD_S, name="batches.batch_poll_due")
def batch_poll_due() -> dict[str, int]:
    """Every minute: send unsent batches, resume submissions, poll active batches (once a minute
    each), ingest finished ones."""
    due = batches_due(now=timezone.now())
    for pk in due.submit:
        batch_submit_task.delay_on_commit(pk)
    to_ingest = list(due.ingest)
    for batch in Batch.objects.filter(pk__in=due.poll).order_by("pk"):
        try:
            batch = batch_poll(batch=batch)
        except (ConflictError, BatchProviderError) as exc:
            logger.warning("batch %s: poll failed: %s", batch.batch_id, exc.message)
            continue
        if batch.status in FINISHED:
            to_ingest.append(batch.pk)
    for pk in dict.fromkeys(to_ingest):
        batch_ingest_task.delay_on_commit(pk)
    return {"submit": len(due.submit), "poll": len(due.poll), "ingest": len(set(to_ingest))}


@shared_task(name="batches.batches_reconcile", **TASK_OPTIONS)
@periodic_once(period_s=RECONCILE_PERIOD_S, name="batches.batches_reconcile")
def batches_reconcile_task() -> dict[str, int]:
    """Every 5 minutes: put batches left without a live owner back in line."""
    report = batches_reconcile()
    return {
        "submitted": len(report.submitted),
        "resumed": len(report.resumed),
        "ingested": len(report.ingested),
        "errors": len(report.errors),
    }


# --- queueing work from views and the admin: check the state now, run after commit -------------


def batch_submit_enqueue(*, batch: Batch) -> None:
    """Queue the submission of a batch that can be submitted (ConflictError otherwise)."""
    batch_submit_check(batch=batch)
    batch_submit_task.delay_on_commit(batch.pk)


def batch_ingest_enqueue(*, batch: Batch) -> None:
    """Queue the ingest of a batch with results (nothing when already ingested; ConflictError before)."""
    if batch_ingest_check(batch=batch):
        batch_ingest_task.delay_on_commit(batch.pk)


def batch_retry_failed_enqueue(*, batch: Batch) -> Batch:
    """A new batch with the failed items of an ingested one, queued for submission."""
    retry = batch_retry_failed(batch=batch)
    batch_submit_task.delay_on_commit(retry.pk)
    return retry
