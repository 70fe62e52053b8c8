"""Shared pieces of the batch services: files on disk, the per-batch lock, task and provider lookup."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from batches.models import Batch, BatchPart
from config.errors import ConflictError, DomainError
from config.leases import HeldLease, lease_acquire, lease_holder_id, lease_release
from llm.providers import ProviderConfig, provider_config
from llm.task import LLMTask, get_task

logger = logging.getLogger("contentops.batches")

FILE_KINDS = ("input", "output", "error")
TERMINAL_PARTS = frozenset(
    {BatchPart.Status.COMPLETED, BatchPart.Status.FAILED, BatchPart.Status.EXPIRED, BatchPart.Status.CANCELLED}
)
# Batch statuses in which the provider still works on something (polling makes sense).
ACTIVE = frozenset({Batch.Status.SUBMITTED, Batch.Status.IN_PROGRESS, Batch.Status.FINALIZING, Batch.Status.CANCELLING})
# Provider-final batch statuses: results can be ingested.
FINISHED = frozenset({Batch.Status.COMPLETED, Batch.Status.FAILED, Batch.Status.EXPIRED, Batch.Status.CANCELLED})
LOCK_TTL_S = 10 * 60
LOCK_PREFIX = "batches:batch:"


def new_batch_id() -> str:
    return f"batch_{uuid.uuid4().hex}"


def batch_dir(batch: Batch) -> Path:
    return Path(settings.BATCH_DIR) / batch.batch_id


def part_path(part: BatchPart, kind: str, *, batch: Batch | None = None) -> Path:
    """Where a part's input, output or error JSONL lives (paths come from our own ids only)."""
    if kind not in FILE_KINDS:
        raise ValueError(f"unknown batch file kind {kind!r}")
    owner = batch if batch is not None else part.batch
    return batch_dir(owner) / f"part-{part.number:03d}-{kind}.jsonl"


def batch_task(batch: Batch) -> LLMTask:
    """The registered task a batch runs (tasks are looked up by name: batches store no code)."""
    try:
        return get_task(batch.task_name)
    except KeyError as exc:
        raise DomainError(f"Batch {batch.batch_id} runs the unknown LLM task {batch.task_name!r}.") from exc


def batch_provider(batch: Batch) -> ProviderConfig:
    """The configured provider, which must be the kind the batch was created for."""
    config = provider_config()
    if config.kind != batch.provider:
        raise ConflictError(
            f"Batch {batch.batch_id} belongs to the {batch.provider!r} provider, "
            f"but {config.kind!r} is configured now.",
            code="batch_provider_mismatch",
        )
    return config


@dataclass
class BatchLock:
    lease: HeldLease

    def refresh(self) -> bool:
        """Keep the lock while a long submit or ingest is still making progress (False: it was lost)."""
        kept = self.lease.renew()
        if not kept:
            logger.warning("%s: the lease expired and was taken over", self.lease.name)
        return kept


def batch_lock_name(batch_pk: int) -> str:
    return f"{LOCK_PREFIX}{batch_pk}"


@contextmanager
def batch_lock(batch: Batch) -> Iterator[BatchLock]:
    """One submit or ingest at a time per batch, across processes: a lease in the database.

    Correctness never depends on it (items are claimed with row locks and status conditions); it
    stops two workers from uploading the same files twice or parsing the same output in parallel.
    It needs no Redis, so batches keep moving through a cache outage. A killed worker's lease
    expires after LOCK_TTL_S (the holder renews it per chunk or part) and the next caller takes it.
    """
    name, holder = batch_lock_name(batch.pk), lease_holder_id()
    if not lease_acquire(name=name, holder=holder, ttl_s=LOCK_TTL_S):
        raise ConflictError(
            f"Batch {batch.batch_id} is busy (a submit or ingest is running); try again shortly.", code="batch_busy"
        )
    try:
        yield BatchLock(HeldLease(name=name, holder=holder, ttl_s=LOCK_TTL_S))
    finally:
        lease_release(name=name, holder=holder)


def claim_poll(*, batch: Batch, min_interval_s: float) -> bool:
    """Take this minute's poll of a batch (conditional UPDATE: concurrent pollers get one winner)."""
    now = timezone.now()
    due = Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=now - timedelta(seconds=min_interval_s))
    claimed = Batch.objects.filter(Q(pk=batch.pk) & due).update(last_polled_at=now) == 1
    if claimed:
        batch.last_polled_at = now
    return claimed
