"""The whole lifecycle in one call, for commands and scripts: submit → poll until the provider is
done (with progress) → ingest → the same again for the resubmitted items, within the budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from batches.models import Batch
from batches.services.common import FINISHED
from batches.services.ingest import batch_ingest
from batches.services.poll import batch_poll
from batches.services.submit import SUBMITTABLE, BatchAwaitingApprovalError, batch_submit
from config.errors import ServiceUnavailableError

ProgressCallback = Callable[[Batch], None]


@dataclass
class PipelineResult:
    """The batches run (the first, then each resubmission) and how their items ended."""

    batches: list[Batch] = field(default_factory=list)
    applied: int = 0
    failed: int = 0
    # Set when the pipeline stopped at a batch waiting for staff approval (BATCH_APPROVAL_USD).
    awaiting_approval: Batch | None = None

    @property
    def last(self) -> Batch:
        return self.batches[-1]


class BatchPipelineTimeout(ServiceUnavailableError):
    code = "batch_pipeline_timeout"


def batch_run_pipeline(
    *,
    batch: Batch,
    on_progress: ProgressCallback | None = None,
    poll_interval: float = 30.0,
    timeout_s: float | None = None,
) -> PipelineResult:
    """Run `batch` to the end: every item applied or failed (resubmissions are followed too).

    `on_progress(batch)` is called after each poll and each ingest; the provider is polled every
    `poll_interval` seconds. Raises BatchPipelineTimeout after `timeout_s` (the batch keeps
    running at the provider; the scheduler or a later call picks it up).
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    result = PipelineResult()
    current: Batch | None = batch
    while current is not None:
        result.batches.append(current)
        current.refresh_from_db()
        if current.status == Batch.Status.AWAITING_APPROVAL:
            result.awaiting_approval = current
            return result
        if current.status in SUBMITTABLE:
            try:
                batch_submit(batch=current)
            except BatchAwaitingApprovalError:
                current.refresh_from_db()
                result.awaiting_approval = current
                return result
        while current.status not in FINISHED and current.status != Batch.Status.INGESTED:
            if current.status == Batch.Status.SUBMITTING:
                batch_submit(batch=current)  # resume an interrupted submission
            current = batch_poll(batch=current, min_interval_s=0)
            if on_progress is not None:
                on_progress(current)
            if current.status in FINISHED:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise BatchPipelineTimeout(
                    f"Batch {current.batch_id} is still {current.status} after {timeout_s:.0f}s; it keeps running."
                )
            time.sleep(poll_interval)
        report = batch_ingest(batch=current)
        current.refresh_from_db()
        if on_progress is not None:
            on_progress(current)
        result.applied += current.items_applied
        result.failed += current.items_failed
        current = report.retry_batch
    return result
