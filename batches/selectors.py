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
from config.compiled import compiled_first
from config.errors import NotFoundError
from llm.task import get_task

DUE_LIMIT = 100


def batch_get(*, batch_id: str) -> Batch:
    """A batch by its public id, or NotFoundError (404)."""
    batch = compiled_first(
        Batch.objects.select_related("retry_of", "created_by").filter(batch_id=batch_id), key="batch_get"
    )
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


@dataclass(frozen=True)
class BatchProgress:
    """What a progress page shows: where the batch is, how far, what it cost, and what happens next."""

    batch: Batch
    percent: int
    done: bool
    next_step: str
    follow_up: Batch | None  # the newest resubmission of its items, when there is one

    def as_json(self) -> dict[str, Any]:
        batch = self.batch
        return {
            "batch_id": batch.batch_id,
            "status": batch.status,
            "status_label": batch.get_status_display(),
            "items": batch.item_count,
            "applied": batch.items_applied,
            "failed": batch.items_failed,
            "resubmitted": batch.items_resubmitted,
            "percent": self.percent,
            "done": self.done,
            "estimated_cost_usd": f"{batch.estimated_cost_usd:.4f}",
            "cost_usd": f"{batch.cost_usd:.4f}",
            "error": batch.error_message,
            "next_step": self.next_step,
            "follow_up": self.follow_up.batch_id if self.follow_up is not None else None,
            "follow_up_pk": self.follow_up.pk if self.follow_up is not None else None,
        }


def batch_progress(*, batch: Batch, mode: str, carrying: bool = False, error: str = "") -> BatchProgress:
    """Progress of one batch; `mode` is "celery" or "embedded", `carrying` whether a thread of this
    process runs it now. Two queries: the batch and its newest resubmission."""
    batch.refresh_from_db()
    follow_up = Batch.objects.filter(retry_of=batch).order_by("-created_at", "-pk").first()
    status = batch.status
    settled = batch.items_settled
    if status == Batch.Status.INGESTED:
        percent = 100
    elif batch.request_total:
        percent = int(90 * (batch.request_completed + batch.request_failed) / batch.request_total)
    else:
        percent = int(100 * settled / batch.item_count) if batch.item_count else 0
    done = status == Batch.Status.INGESTED or (status == Batch.Status.CANCELLED and batch.ingested_at is not None)
    S = Batch.Status
    every = f"every {settings.ADMIN_BATCH_POLL_INTERVAL_S:g} s"
    if error and not done:
        next_step = f"Stopped: {error}"
    elif status == S.AWAITING_APPROVAL:
        next_step = (
            f"Waiting for approval: the estimate ${batch.estimated_cost_usd:.2f} is above "
            f"BATCH_APPROVAL_USD (${settings.BATCH_APPROVAL_USD:.2f}). A staff member uses the action "
            "“Approve and submit”; nothing is sent before."
        )
    elif status in (S.CREATED, S.BUILT):
        next_step = (
            "Queued for submission to a worker; if the queue loses it, the scheduler submits it within "
            f"{settings.BATCH_RECONCILE_GRACE_S:g} s."
            if mode == "celery"
            else "Being submitted by this server now."
            if carrying
            else "Built, not submitted: use the action “Submit and follow” (this server then carries it through)."
        )
    elif status == S.SUBMITTING:
        next_step = "Uploading its files to the provider."
    elif status in (S.SUBMITTED, S.IN_PROGRESS, S.FINALIZING, S.CANCELLING):
        what = (
            "The provider stops its jobs; what finished is applied, the rest fails as cancelled. "
            if (status == S.CANCELLING)
            else ""
        )
        if mode == "celery":
            polled = batch.last_polled_at
            when = (
                f" (next poll after {polled + timedelta(seconds=settings.BATCH_POLL_MIN_INTERVAL_S):%H:%M:%S} UTC)"
                if polled
                else ""
            )
            next_step = what + f"The scheduler polls the provider every minute{when} and ingests the results."
        elif carrying:
            next_step = what + f"This server polls the provider {every} and ingests the results when it finishes."
        else:
            next_step = what + "Nobody is polling it: open this page (or use “Poll the provider now”) to carry it on."
    elif status in FINISHED and batch.ingested_at is None:
        next_step = (
            "The provider finished; the results are being applied."
            if carrying or mode == "celery"
            else "The provider finished; use “Ingest results” to apply them."
        )
    else:
        next_step = (
            f"Done: {batch.items_applied} applied, {batch.items_failed} failed"
            + (f", {batch.items_resubmitted} resubmitted" if batch.items_resubmitted else "")
            + "."
        )
        if follow_up is not None and batch.items_resubmitted:
            next_step += f" The resubmitted items run as batch {follow_up.batch_id} ({follow_up.status})."
    return BatchProgress(batch=batch, percent=min(percent, 100), done=done, next_step=next_step, follow_up=follow_up)
