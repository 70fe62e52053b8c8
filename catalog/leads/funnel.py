"""Running the lead tasks (now, bulk, Batch API) and the daily funnel built from them.

The funnel (seed 003's combined workflow): every new posting becomes a lead and is qualified
through the Batch API → the qualified are analyzed through the Batch API → the top N of the day
(LEADS_TOP_N) get the conversational analysis now, ending in an outreach draft. Each step takes
only what is due (not done, not in a batch in flight), so a run is safe to repeat and a schedule
can run it every hour: with Celery and a real provider a step submits its batch and the next run
takes the results; in the embedded mode (no broker) or offline a run carries its batches to the end.
Background work never takes the fallback for an unavailable provider: bulk items are deferred and
the conversation step waits while the breaker is open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from catalog.leads.conversations import lead_analyze_conversationally
from catalog.leads.llm import LEAD_TASKS
from catalog.leads.models import Lead
from catalog.leads.schemas import PostingInput
from catalog.leads.selectors import (
    conversations_started_since,
    leads_for_conversation,
    leads_list,
    leads_to_analyze,
    leads_to_qualify,
    offering_briefs,
    posting_input,
    qualify_input,
)
from catalog.leads.services import leads_ensure
from config.errors import DomainError
from llm.models import LLMCall
from llm.providers import provider_config
from llm.runtime import ItemOutcome, LLMResult, run, run_many

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from batches.models import Batch

Progress = Callable[[str, int, int], None]
MAX_BATCH_ITEMS = 50_000
# Seconds between polls while a run waits for its batch (the offline answerer needs none).
BATCH_POLL_S = 30.0
# How long an API call may wait for a batch it was asked to wait for (then it answers with the status).
API_WAIT_S = 60.0
TASK_TYPES = tuple(LEAD_TASKS)


def _task(task_type: str) -> Any:
    try:
        return LEAD_TASKS[task_type]
    except KeyError:
        raise DomainError(
            f"Unknown task_type {task_type!r}; one of {', '.join(TASK_TYPES)}.", code="invalid_task_type"
        ) from None


def lead_task_inputs(*, task_type: str, leads: Sequence[Lead]) -> list[PostingInput]:
    """Task inputs for leads (their listings loaded); qualification carries our offerings."""
    if task_type == "qualify":
        offerings = offering_briefs()
        return [qualify_input(lead=lead, offerings=offerings) for lead in leads]
    _task(task_type)
    return [posting_input(lead=lead) for lead in leads]


def _custom_id(task_type: str, lead_id: int) -> str:
    return f"lead-{lead_id}-{task_type}"


# --- now and bulk ----------------------------------------------------------------------------------


def lead_task_run_now(*, task_type: str, lead: Lead, user: User | AnonymousUser | None = None) -> LLMResult:
    """Run one task for one lead now (a person is waiting: the flagged fallback if the provider is down)."""
    (task_input,) = lead_task_inputs(task_type=task_type, leads=[lead])
    return run(_task(task_type), task_input, user_id=user.pk if user is not None else None)


def lead_tasks_run_bulk(
    *,
    task_type: str,
    leads: Sequence[Lead],
    user: User | AnonymousUser | None = None,
    background: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[ItemOutcome]:
    """Run a task for many leads concurrently under the shared limits; `background` defers items the
    provider cannot serve (they stay due) instead of taking the fallback."""
    inputs = lead_task_inputs(task_type=task_type, leads=leads)
    return run_many(
        _task(task_type),
        inputs,
        user_id=user.pk if user is not None else None,
        on_progress=on_progress,
        defer_when_unavailable=background,
    )


# --- batches ---------------------------------------------------------------------------------------


def lead_batch_create(
    *,
    task_type: str,
    job_ids: Sequence[int] | None = None,
    leads: Sequence[Lead] | None = None,
    stage: str | None = None,
    verdict: str | None = None,
    source: str | None = None,
    min_score: int | None = None,
    max_score: int | None = None,
    limit: int | None = None,
    created_by: User | AnonymousUser | None = None,
    name: str = "",
    max_items: int = MAX_BATCH_ITEMS,
) -> Batch:
    """A Batch API batch of `task_type` for the given jobs (leads made for them if missing), the given
    leads, or the leads a filter selects. DomainError when nothing is selected or it is too large."""
    from batches.services import ItemSpec, batch_create

    task = _task(task_type)
    if leads is None:
        if job_ids is not None:
            ids = list(dict.fromkeys(job_ids))
            if len(ids) > max_items:
                raise DomainError(f"More than {max_items} jobs for one batch.", code="batch_too_large")
            leads_ensure(job_ids=ids)
            chosen = list(Lead.objects.filter(job_id__in=ids).select_related("job").order_by("pk"))
            missing = set(ids) - {lead.job_id for lead in chosen}
            if missing:
                raise DomainError(
                    f"No job listing with id(s) {sorted(missing)[:20]}.", code="job_not_found", detail=sorted(missing)
                )
        else:
            selected = leads_list(
                stage=stage, verdict=verdict, source=source, min_score=min_score, max_score=max_score
            ).select_related("job")
            chosen = list(selected[: min(limit or max_items, max_items) + 1])
            if len(chosen) > max_items:
                raise DomainError(f"More than {max_items} leads for one batch.", code="batch_too_large")
    else:
        chosen = list(leads)
    if not chosen:
        raise DomainError("No lead matches: nothing to process.", code="nothing_to_process")
    inputs = lead_task_inputs(task_type=task_type, leads=chosen)
    items = [ItemSpec(_custom_id(task_type, i.lead_id), i, ("catalog.lead", i.lead_id)) for i in inputs]
    return batch_create(
        task=task, items=items, name=name or f"leads: {task_type} ({len(items)})", created_by=created_by
    )


def _check_model(model: str | None) -> None:
    configured = provider_config().model
    if model and model != configured and not provider_config().is_offline:
        raise DomainError(
            f"Batches run on the configured model ({configured}); set OPENAI_MODEL to use {model}.",
            code="model_not_configured",
        )


@dataclass
class BatchRun:
    """A batch a run created, and how far it got."""

    batch_id: str
    task_type: str
    task_name: str
    status: str
    item_count: int
    applied: int = 0
    failed: int = 0
    fallbacks: int = 0
    waited: bool = False
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _can_finish_now() -> bool:
    """Offline batches are answered locally; without a broker, a run carries its batch to the end itself."""
    return provider_config().is_offline or settings.CELERY_TASK_ALWAYS_EAGER


def batch_carry(
    *, batch: Batch, task_type: str, wait: bool, timeout_s: float | None = None, on_progress: Progress | None = None
) -> BatchRun:
    """Submit a batch; with `wait` run it to the end (within `timeout_s`), else queue the submission."""
    from batches.models import BatchItem
    from batches.services import BatchPipelineTimeout, batch_run_pipeline
    from batches.tasks import batch_submit_enqueue

    result = BatchRun(
        batch_id=batch.batch_id,
        task_type=task_type,
        task_name=batch.task_name,
        status=batch.status,
        item_count=batch.item_count,
    )
    if not wait:
        batch_submit_enqueue(batch=batch)
        batch.refresh_from_db()
        result.status = batch.status
        result.note = "Submitted; the scheduler polls and ingests it (GET /api/v1/batch/status/<id>)."
        return result

    def progress(current: Batch) -> None:
        if on_progress is not None:
            on_progress(task_type, current.items_settled, current.item_count)

    poll_s = 0.2 if provider_config().is_offline else BATCH_POLL_S
    try:
        pipeline = batch_run_pipeline(batch=batch, on_progress=progress, poll_interval=poll_s, timeout_s=timeout_s)
    except BatchPipelineTimeout as exc:
        batch.refresh_from_db()
        result.status, result.note = batch.status, exc.message
        return result
    result.waited = True
    result.status = pipeline.last.status
    result.applied, result.failed = pipeline.applied, pipeline.failed
    result.fallbacks = BatchItem.objects.filter(
        batch__in=pipeline.batches, status=BatchItem.Status.APPLIED, is_fallback=True
    ).count()
    return result


def lead_batch_process(
    *,
    task_type: str,
    job_ids: Sequence[int],
    wait_for_completion: bool = False,
    model: str | None = None,
    created_by: User | AnonymousUser | None = None,
) -> BatchRun:
    """Seed 003's one-call batch for jobs: create, submit, and wait only where it can finish now."""
    _check_model(model)
    batch = lead_batch_create(task_type=task_type, job_ids=job_ids, created_by=created_by)
    wait = wait_for_completion and _can_finish_now()
    run_ = batch_carry(batch=batch, task_type=task_type, wait=wait, timeout_s=API_WAIT_S)
    if wait_for_completion and not wait:
        run_.note = (
            "wait_for_completion applies only where the batch can finish now (offline provider or no broker); "
            + run_.note
        )
    return run_


# --- the funnel ------------------------------------------------------------------------------------


@dataclass
class StepReport:
    mode: str = ""
    due: int = 0
    applied: int = 0
    fallbacks: int = 0
    failed: int = 0
    deferred: int = 0
    batch: BatchRun | None = None


@dataclass
class FunnelReport:
    new_leads: int = 0
    qualify: StepReport = field(default_factory=StepReport)
    analyze: StepReport = field(default_factory=StepReport)
    conversations: int = 0
    drafts: int = 0
    conversation_fallbacks: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bulk_step(step: StepReport, task_type: str, leads: list[Lead], on_progress: Progress | None) -> None:
    step.mode = LLMCall.Mode.BULK
    outcomes = lead_tasks_run_bulk(
        task_type=task_type,
        leads=leads,
        background=True,
        on_progress=(lambda done, total: on_progress(task_type, done, total)) if on_progress else None,
    )
    for outcome in outcomes:
        if outcome.deferred:
            step.deferred += 1
        elif outcome.result is None:
            step.failed += 1
        else:
            step.applied += 1
            step.fallbacks += int(outcome.result.is_fallback)


def _batch_step(step: StepReport, task_type: str, leads: list[Lead], on_progress: Progress | None) -> None:
    step.mode = LLMCall.Mode.BATCH
    batch = lead_batch_create(task_type=task_type, leads=leads, name=f"leads funnel: {task_type} ({len(leads)})")
    step.batch = batch_carry(batch=batch, task_type=task_type, wait=_can_finish_now(), on_progress=on_progress)
    step.applied, step.failed, step.fallbacks = step.batch.applied, step.batch.failed, step.batch.fallbacks


def _provider_refusing() -> bool:
    from llm.breaker import get_breaker

    config = provider_config()
    return not config.is_offline and get_breaker(config.name).state == "open"


def leads_funnel_run(
    *,
    limit: int | None = None,
    now: bool = False,
    top_n: int | None = None,
    on_progress: Progress | None = None,
) -> FunnelReport:
    """One pass of the funnel; `limit` caps each step, `now` runs the task steps in bulk instead of batches."""
    report = FunnelReport()
    cap = min(limit, settings.LEADS_FUNNEL_MAX_NEW) if limit is not None else settings.LEADS_FUNNEL_MAX_NEW
    report.new_leads = leads_ensure(limit=cap)
    for task_type, step, due in (
        ("qualify", report.qualify, lambda: leads_to_qualify(limit=cap)),
        ("analyze", report.analyze, lambda: leads_to_analyze(limit=cap)),
    ):
        leads = list(due())
        step.due = len(leads)
        if not leads:
            continue
        (_bulk_step if now else _batch_step)(step, task_type, leads, on_progress)

    day_start = datetime.combine(timezone.now().date(), time.min, tzinfo=timezone.get_current_timezone())
    quota = (top_n if top_n is not None else settings.LEADS_TOP_N) - conversations_started_since(since=day_start)
    if limit is not None:
        quota = min(quota, limit)
    if quota <= 0:
        report.notes.append("today's conversations are done (LEADS_TOP_N)")
        return report
    if _provider_refusing():
        report.notes.append("the LLM provider is refusing calls (circuit open): conversations wait for the next run")
        return report
    leads = list(leads_for_conversation(limit=quota))
    for index, lead in enumerate(leads, start=1):
        summary = lead_analyze_conversationally(lead=lead)
        report.conversations += 1
        report.drafts += int(bool(summary["draft"]["subject"]))
        report.conversation_fallbacks += int(bool(summary["totals"] and summary["totals"]["fallback_turns"]))
        if on_progress is not None:
            on_progress("converse", index, len(leads))
    return report
