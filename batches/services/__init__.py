"""Batch services: the provider Batch API lifecycle for any registered LLM task.

batch = batch_create(task=TASK, items=[ItemSpec(custom_id, task_input, subject), ...])
batch_submit(batch=batch)            # upload + create jobs (offline: answered locally)
batch_poll(batch=batch)              # at most once a minute; mirrors the provider's state
report = batch_ingest(batch=batch)   # apply results; settle; report.retry_batch resubmits
batch_run_pipeline(batch=batch, on_progress=..., poll_interval=30)  # all of the above
batch_cancel(batch=batch); batch_retry_failed(batch=batch)
batch_approve(batch=batch, user=staff)  # a batch above BATCH_APPROVAL_USD waits for this
batches_reconcile()                  # every 5 minutes: put batches left without a live owner back in line
"""

from batches.services.create import ItemSpec, batch_build, batch_create
from batches.services.ingest import IngestReport, batch_ingest, batch_ingest_check
from batches.services.pipeline import BatchPipelineTimeout, PipelineResult, batch_run_pipeline
from batches.services.poll import batch_cancel, batch_poll
from batches.services.reconcile import ReconcileReport, batches_reconcile
from batches.services.retry import batch_retry_failed
from batches.services.settle import Settlement, batch_settle
from batches.services.submit import (
    BatchAwaitingApprovalError,
    DailyBudgetExceededError,
    batch_approve,
    batch_budget_check,
    batch_submit,
    batch_submit_check,
)

__all__ = [
    "BatchAwaitingApprovalError",
    "BatchPipelineTimeout",
    "DailyBudgetExceededError",
    "IngestReport",
    "ItemSpec",
    "PipelineResult",
    "ReconcileReport",
    "Settlement",
    "batch_approve",
    "batch_budget_check",
    "batch_build",
    "batch_cancel",
    "batch_create",
    "batch_ingest",
    "batch_ingest_check",
    "batch_poll",
    "batch_retry_failed",
    "batch_run_pipeline",
    "batch_settle",
    "batch_submit",
    "batch_submit_check",
    "batches_reconcile",
]
