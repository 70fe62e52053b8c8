"""Reads for batches: lookups, lists with their joins, and what the scheduler should do next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pydantic
from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from batches.models import Batch, BatchItem, BatchPart
from batches.services.common import ACTIVE, FINISHED
from config.errors import NotFoundError
from llm.task import get_task

DUE_LIMIT = 100


def batch_get(*, batch_id: str) -> Batch:
    """A batch by its public id, or NotFoundError (404)."""
    batch = Batch.objects.select_related("retry_of", "created_by").filter(batch_id=batch_id).first()
    if batch is None:
        raise NotFoundError(f"No batch {batch_id!r}.", code="batch_not_found")
    return batch


def batches_list(*, status: str | None = None, task_name: str | None = None) -> QuerySet[Batch]:
    """Newest first, with what a listing shows (retry link, creator, parts) in constant queries."""
    queryset = Batch.objects.select_related("retry_of", "created_by").prefetch_related(
        Prefetch("parts", queryset=BatchPart.objects.order_by("number"))
    )
    if status:
        queryset = queryset.filter(status=status)
    if task_name:
        queryset = queryset.filter(task_name=task_name)
    return queryset.order_by("-created_at", "-id")


def batch_items_list(*, batch: Batch, status: str | None = None) -> QuerySet[BatchItem]:
    """A batch's items in line order; the input JSON is left out (it can be large)."""
    queryset = BatchItem.objects.filter(batch=batch).select_related("subject_type").defer("input")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("pk")


def batch_item_results(*, batch: Batch, items: list[BatchItem]) -> dict[int, dict[str, Any] | None]:
    """Applied items' results as the task's domain stored them (`LLMTask.stored_outputs`), by item id;
    empty when the task offers none. One read of the inputs, one call to the task."""
    try:
        task = get_task(batch.task_name)
    except KeyError:
        return {}
    applied = [item.pk for item in items if item.status == BatchItem.Status.APPLIED]
    if task.stored_outputs is None or not applied:
        return {}
    parsed = []
    for pk, raw in BatchItem.objects.filter(pk__in=applied).order_by("pk").values_list("pk", "input"):
        try:
            parsed.append((pk, task.input_model.model_validate(raw)))
        except pydantic.ValidationError:
            continue  # an input the task no longer reads has no result to show
    outputs = task.stored_outputs([task_input for _, task_input in parsed])
    return {pk: output for (pk, _), output in zip(parsed, outputs, strict=True)}


@dataclass(frozen=True)
class DueWork:
    submit: list[int]
    poll: list[int]
    ingest: list[int]


def batches_due(*, now: datetime) -> DueWork:
    """Batch ids the scheduler should act on: resubmissions to send, batches built but left unsent
    past BATCH_RECONCILE_GRACE_S (their pipeline died before submitting), interrupted submits to
    resume, active batches not polled for a minute, finished ones not yet ingested."""
    stale = now - timedelta(seconds=float(settings.BATCH_POLL_MIN_INTERVAL_S))
    abandoned = now - timedelta(seconds=float(settings.BATCH_RECONCILE_GRACE_S))
    not_recent = Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=stale)
    unsent = Q(status__in=[Batch.Status.CREATED, Batch.Status.BUILT]) & (
        Q(retry_of__isnull=False) | Q(created_at__lte=abandoned)
    )
    submit = Batch.objects.filter(unsent | (Q(status=Batch.Status.SUBMITTING) & not_recent))
    poll = Batch.objects.filter(not_recent, status__in=ACTIVE).exclude(provider="offline")
    ingest = Batch.objects.filter(status__in=FINISHED, ingested_at__isnull=True)
    return DueWork(
        submit=list(submit.order_by("pk").values_list("pk", flat=True)[:DUE_LIMIT]),
        poll=list(poll.order_by("last_polled_at", "pk").values_list("pk", flat=True)[:DUE_LIMIT]),
        ingest=list(ingest.order_by("pk").values_list("pk", flat=True)[:DUE_LIMIT]),
    )
