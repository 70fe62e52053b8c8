"""Celery tasks for batches: thin, taking ids (never objects), each calling one service.

Safe to run twice (acks_late + reject_on_worker_lost redeliver a task whose worker died): submit
resumes, polls are rate-limited by a conditional update, and ingest claims items before applying.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from batches.models import Batch
from batches.selectors import batches_due
from batches.services import batch_ingest, batch_poll, batch_submit
from batches.services.common import FINISHED
from config.errors import ConflictError
from llm.batching import BatchProviderError

logger = logging.getLogger("contentops.batches")
TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK_OPTIONS)
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


@shared_task(**TASK_OPTIONS)
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


@shared_task(**TASK_OPTIONS)
def batch_poll_due() -> dict[str, int]:
    """Every minute: resume submissions, poll active batches (once a minute each), ingest finished ones."""
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
