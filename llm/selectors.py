"""Reads over the usage ledger (`LLMCall`): admin lists, totals and cost reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from llm.models import LLMCall

_ZERO_COST = Decimal("0.000000")


@dataclass(frozen=True, kw_only=True)
class CallTotals:
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal


@dataclass(frozen=True, kw_only=True)
class CostRow:
    """Spend for one (task, model, mode) over a report window."""

    task: str
    model: str
    mode: str
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    cached: int
    fallbacks: int
    failed: int


@dataclass(frozen=True, kw_only=True)
class CostTotal:
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: Decimal
    cached: int
    fallbacks: int
    failed: int


@dataclass(frozen=True, kw_only=True)
class CostReport:
    since: datetime
    until: datetime | None
    rows: list[CostRow]
    total: CostTotal


def llm_calls_list() -> QuerySet[LLMCall]:
    """Ledger rows newest first, with the relations a list shows already joined (no per-row queries)."""
    return LLMCall.objects.select_related("subject_type", "user").order_by("-created_at", "-pk")


def llm_call_totals(*, calls: QuerySet[LLMCall]) -> CallTotals:
    """Calls, tokens and cost summed over any ledger queryset, in one aggregate query."""
    # Coalesce: SUM over zero rows is NULL, and an empty filter should read as zeros.
    totals = calls.order_by().aggregate(
        calls=Count("pk"),
        tokens_in=Coalesce(Sum("tokens_in"), 0),
        tokens_out=Coalesce(Sum("tokens_out"), 0),
        cost_usd=Coalesce(Sum("cost_usd"), _ZERO_COST, output_field=LLMCall._meta.get_field("cost_usd")),
    )
    return CallTotals(**totals)


def llm_cost_report(*, since: datetime, until: datetime | None = None) -> CostReport:
    """Spend grouped by task, model and mode for `since <= created_at < until`: one query, priciest first."""
    calls = LLMCall.objects.filter(created_at__gte=since)
    if until is not None:
        calls = calls.filter(created_at__lt=until)
    grouped = (
        calls.order_by()
        .values("task", "model", "mode")
        .annotate(
            calls=Count("pk"),
            tokens_in=Sum("tokens_in"),
            tokens_out=Sum("tokens_out"),
            cost_usd=Sum("cost_usd"),
            cached=Count("pk", filter=Q(status=LLMCall.Status.CACHED)),
            fallbacks=Count("pk", filter=Q(status=LLMCall.Status.FALLBACK)),
            failed=Count("pk", filter=Q(status=LLMCall.Status.FAILED)),
        )
        .order_by("-cost_usd", "task", "model", "mode")
    )
    rows = [CostRow(**row) for row in grouped]
    # Totals come from the rows, not a second query, so they always add up to what is shown.
    total = CostTotal(
        calls=sum(r.calls for r in rows),
        tokens_in=sum(r.tokens_in for r in rows),
        tokens_out=sum(r.tokens_out for r in rows),
        cost_usd=sum((r.cost_usd for r in rows), _ZERO_COST),
        cached=sum(r.cached for r in rows),
        fallbacks=sum(r.fallbacks for r in rows),
        failed=sum(r.failed for r in rows),
    )
    return CostReport(since=since, until=until, rows=rows, total=total)


def llm_day_start(*, now: datetime | None = None) -> datetime:
    """Midnight UTC of today: the daily budget (LLM_DAILY_BUDGET_USD) counts spend from here."""
    from datetime import UTC

    from django.utils import timezone

    current = (now or timezone.now()).astimezone(UTC)
    return current.replace(hour=0, minute=0, second=0, microsecond=0)


def llm_spend_today(*, now: datetime | None = None) -> Decimal:
    """USD the ledger recorded since midnight UTC (one aggregate query)."""
    calls = LLMCall.objects.filter(created_at__gte=llm_day_start(now=now))
    return llm_call_totals(calls=calls).cost_usd
