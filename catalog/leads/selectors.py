"""Reads for leads: lists with their joins, task inputs built from a lead's listing, what the funnel
should work on next, stored results per task, and a conversation's turns with their ledger rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast

from catalog.jobs.models import JobListing
from catalog.leads.models import Lead, LeadStage, Offering
from catalog.leads.schemas import OfferingBrief, PostingInput, QualifyInput
from config.errors import NotFoundError
from llm.models import Conversation, ConversationTurn, LLMCall


def leads_list(
    *,
    stage: str | None = None,
    verdict: str | None = None,
    source: str | None = None,
    min_score: int | None = None,
    max_score: int | None = None,
    q: str = "",
) -> QuerySet[Lead]:
    """Leads best first (score, then newest), with their listing and feed in the same query."""
    queryset = Lead.objects.select_related("job", "job__feed")
    if stage:
        queryset = queryset.filter(stage=stage)
    if verdict:
        queryset = queryset.filter(verdict=verdict)
    if source:
        queryset = queryset.filter(source=source)
    if min_score is not None:
        queryset = queryset.filter(score__gte=min_score)
    if max_score is not None:
        queryset = queryset.filter(score__lte=max_score)
    if q.strip():
        term = q.strip()
        queryset = queryset.filter(Q(job__title__icontains=term) | Q(job__company__icontains=term))
    return queryset.order_by("-score", "-created_at", "-id")


def lead_get(*, lead_id: int) -> Lead:
    lead = Lead.objects.select_related("job", "job__feed", "conversation").filter(pk=lead_id).first()
    if lead is None:
        raise NotFoundError(f"No lead {lead_id}.", code="lead_not_found")
    return lead


def lead_for_job_get(*, job_id: int) -> Lead | None:
    return Lead.objects.select_related("job", "conversation").filter(job_id=job_id).first()


def _pay_text(job: JobListing) -> str:
    if job.salary_min is None and job.salary_max is None:
        return ""
    low = f"{job.salary_min:,.0f}" if job.salary_min is not None else ""
    high = f"{job.salary_max:,.0f}" if job.salary_max is not None else ""
    span = low if low == high else f"{low}–{high}".strip("–")
    return f"{span} {job.salary_currency} per {job.salary_period or 'year'}".strip()


def posting_input(*, lead: Lead) -> PostingInput:
    """The task input of a lead (its listing loaded)."""
    job = lead.job
    return PostingInput(
        lead_id=lead.pk,
        job_id=job.pk,
        title=job.title,
        company=job.company,
        location=job.location,
        remote=job.remote,
        pay=_pay_text(job),
        pay_min=float(job.salary_min) if job.salary_min is not None else None,
        pay_max=float(job.salary_max) if job.salary_max is not None else None,
        pay_currency=job.salary_currency,
        pay_period=job.salary_period,
        url=job.url,
        skills=list(job.skills or []),
        language=job.language,
        description=job.description,
    )


def offering_briefs() -> list[OfferingBrief]:
    return [
        OfferingBrief(
            id=o.pk,
            name=o.name,
            solves=o.solves,
            keywords=[str(k) for k in (o.keywords or [])],
            hours_saved_per_week=float(o.typical_hours_saved_per_week),
            price_min=float(o.price_min),
            price_max=float(o.price_max),
            currency=o.currency,
        )
        for o in Offering.objects.filter(active=True).order_by("name")
    ]


def qualify_input(*, lead: Lead, offerings: list[OfferingBrief]) -> QualifyInput:
    return QualifyInput(
        **posting_input(lead=lead).model_dump(), offerings=offerings, min_score=settings.LEADS_QUALIFY_MIN_SCORE
    )


def _open_batch_item(task_name: str) -> Exists:
    """The lead has a line of this task in a batch still in flight (pending or at the provider)."""
    from batches.models import BatchItem  # catalog may import batches; lazily, like products do

    content_type = ContentType.objects.get_for_model(Lead)
    return Exists(
        BatchItem.objects.filter(
            subject_type=content_type,
            subject_id=Cast(OuterRef("pk"), output_field=CharField()),
            status__in=[BatchItem.Status.PENDING, BatchItem.Status.SUBMITTED],
            batch__task_name=task_name,
        )
    )


def leads_to_qualify(*, limit: int | None = None) -> QuerySet[Lead]:
    """New leads never qualified, not in a qualify batch in flight, not failing for good."""
    return (
        Lead.objects.filter(stage=LeadStage.NEW, qualified_at__isnull=True, failures__lt=settings.LEADS_MAX_FAILURES)
        .exclude(_open_batch_item("lead_qualify"))
        .select_related("job")
        .order_by("-created_at", "-id")[:limit]
    )


def leads_to_analyze(*, limit: int | None = None) -> QuerySet[Lead]:
    """Qualified leads not yet analyzed nor in an analyze batch, best first."""
    return (
        Lead.objects.filter(
            stage=LeadStage.QUALIFIED, analyzed_at__isnull=True, failures__lt=settings.LEADS_MAX_FAILURES
        )
        .exclude(_open_batch_item("lead_analyze"))
        .select_related("job")
        .order_by("-score", "-created_at", "-id")[:limit]
    )


def leads_for_conversation(*, limit: int) -> QuerySet[Lead]:
    """Analyzed leads without a conversation, best score first: the funnel's top N."""
    return (
        Lead.objects.filter(stage=LeadStage.ANALYZED, conversation__isnull=True)
        .select_related("job")
        .order_by("-score", "-created_at", "-id")[:limit]
    )


def conversations_started_since(*, since: datetime) -> int:
    """Leads whose conversation started since `since` (the funnel's daily cap)."""
    return Lead.objects.filter(conversation__created_at__gte=since).count()


def lead_task_results(*, task: str, lead_ids: Sequence[int]) -> list[dict[str, Any] | None]:
    """What each lead stores for a task (in `lead_ids` order; None for a lead that is gone)."""
    fields = {
        "lead_qualify": lambda lead: {"score": lead.score, "verdict": lead.verdict, "reason": lead.reason},
        "lead_analyze": lambda lead: lead.analysis,
        "lead_extract_pain_points": lambda lead: {"pain_points": lead.pain_points},
        "lead_parse": lambda lead: lead.parsed,
    }
    shape = fields[task]
    leads = Lead.objects.in_bulk(list(lead_ids))
    results: list[dict[str, Any] | None] = []
    for lead_id in lead_ids:
        lead = leads.get(lead_id)
        if lead is None or task not in lead.provenance:
            results.append(None)
            continue
        results.append({**shape(lead), "is_fallback": bool(lead.provenance[task].get("is_fallback"))})
    return results


def lead_conversation_get(*, conversation_id: int) -> tuple[Lead, Conversation]:
    """A lead's conversation (NotFoundError for a conversation no lead owns)."""
    lead = Lead.objects.select_related("job", "conversation").filter(conversation_id=conversation_id).first()
    if lead is None or lead.conversation is None:
        raise NotFoundError(f"No lead conversation {conversation_id}.", code="conversation_not_found")
    return lead, lead.conversation


def conversation_turns(*, conversation: Conversation) -> list[ConversationTurn]:
    """Turns in order, each with its ledger row (input, cached and output tokens as billed, cost)."""
    return list(conversation.turns.select_related("call").order_by("index"))


def conversation_totals(*, conversation: Conversation) -> dict[str, Any]:
    """Cumulative billed tokens and cost of a conversation's turns, from the usage ledger."""
    turns = ConversationTurn.objects.filter(conversation=conversation)
    totals = LLMCall.objects.filter(pk__in=turns.values("call_id")).aggregate(
        tokens_in=Sum("tokens_in"),
        tokens_cached=Sum("tokens_cached"),
        tokens_out=Sum("tokens_out"),
        cost=Sum("cost_usd"),
    )
    return {
        "turns": turns.count(),
        "replayed_turns": turns.filter(replayed=True).count(),
        "fallback_turns": turns.filter(is_fallback=True).count(),
        "tokens_in": totals["tokens_in"] or 0,
        "tokens_cached": totals["tokens_cached"] or 0,
        "tokens_out": totals["tokens_out"] or 0,
        "cost_usd": totals["cost"] or 0,
    }


def leads_stage_counts() -> dict[str, int]:
    counts = dict.fromkeys(LeadStage.values, 0)
    for row in Lead.objects.order_by().values("stage").annotate(n=Count("pk")):
        counts[row["stage"]] = row["n"]
    return counts


def leads_with_drafts(*, lead_ids: Sequence[int] | None = None) -> list[int]:
    """Leads whose outreach draft is ready (the emails layer turns each into an outreach email)."""
    queryset = Lead.objects.filter(stage=LeadStage.DRAFT_READY).exclude(draft_subject="")
    if lead_ids is not None:
        queryset = queryset.filter(pk__in=list(lead_ids))
    return list(queryset.order_by("pk").values_list("pk", flat=True))
