"""The admin index's dashboard: what staff check first, each figure one cheap aggregate query.

Reads only (a selector): today's LLM spend against the daily budget and calls by outcome, the
breaker, batches in flight, fallbacks waiting for regeneration, the last fetch of each feed,
digests and emails sent today, and leads by stage. `config` is plumbing, so it may read every app.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

IN_FLIGHT_SHOWN = 8


@dataclass
class Dashboard:
    spend_today: Decimal = Decimal(0)
    budget: Decimal = Decimal(0)
    budget_percent: int = 0
    calls_by_outcome: dict[str, int] = field(default_factory=dict)
    calls_today: int = 0
    provider: str = ""
    breaker: str = ""
    in_flight: list[Any] = field(default_factory=list)
    awaiting_approval: int = 0
    fallbacks: list[tuple[str, int, str]] = field(default_factory=list)
    feeds: list[Mapping[str, Any]] = field(default_factory=list)
    digests_today: int = 0
    emails_today: dict[str, int] = field(default_factory=dict)
    emails_failed_today: int = 0
    leads_by_stage: list[tuple[str, int]] = field(default_factory=list)
    run_mode: str = ""


def _llm(board: Dashboard) -> None:
    from llm.breaker import get_breaker
    from llm.models import LLMCall
    from llm.providers import provider_config
    from llm.redis import REDIS_ERRORS
    from llm.selectors import llm_day_start

    statuses = LLMCall.Status.values
    totals = LLMCall.objects.filter(created_at__gte=llm_day_start()).aggregate(
        cost=Coalesce(Sum("cost_usd"), Decimal(0), output_field=LLMCall._meta.get_field("cost_usd")),
        **{status: Count("pk", filter=Q(status=status)) for status in statuses},
    )
    board.spend_today = totals["cost"]
    board.calls_by_outcome = {status: totals[status] for status in statuses}
    board.calls_today = sum(board.calls_by_outcome.values())
    board.budget = Decimal(str(settings.LLM_DAILY_BUDGET_USD))
    board.budget_percent = int(100 * board.spend_today / board.budget) if board.budget > 0 else 0
    try:
        config = provider_config()
        board.provider = f"{config.kind} ({config.model})"
        board.breaker = "not used (offline)" if config.kind == "offline" else get_breaker(config.name).state
    except ImproperlyConfigured:
        board.provider, board.breaker = "misconfigured", "unknown"
    except REDIS_ERRORS:
        board.breaker = "unknown (Redis unreachable)"


def _batches(board: Dashboard) -> None:
    from batches.models import Batch

    done = Q(status=Batch.Status.INGESTED) | (Q(status=Batch.Status.CANCELLED) & Q(ingested_at__isnull=False))
    board.in_flight = list(
        Batch.objects.exclude(done)
        .only(
            "batch_id", "name", "task_name", "status", "item_count", "items_applied", "items_failed",
            "items_resubmitted", "estimated_cost_usd", "created_at",
        )
        .order_by("-created_at", "-pk")[:IN_FLIGHT_SHOWN]
    )  # fmt: skip
    board.awaiting_approval = sum(b.status == Batch.Status.AWAITING_APPROVAL for b in board.in_flight)


def _fallbacks(board: Dashboard) -> None:
    from catalog.datasets.models import DataDictionaryEntry
    from catalog.products.models import ProductContent
    from profiles.models import DailyDigest, JobScore

    board.fallbacks = [
        (
            "product contents",
            ProductContent.objects.filter(is_fallback=True).count(),
            "admin:catalog_product_changelist",
        ),
        ("job scores", JobScore.objects.filter(is_fallback=True).count(), "admin:profiles_jobscore_changelist"),
        (
            "daily digests",
            DailyDigest.objects.filter(is_fallback=True).count(),
            "admin:profiles_dailydigest_changelist",
        ),
        (
            "data dictionary entries",
            DataDictionaryEntry.objects.filter(is_fallback=True).count(),
            "admin:catalog_datadictionary_changelist",
        ),
    ]


def _feeds(board: Dashboard) -> None:
    from catalog.jobs.models import JobFeed

    board.feeds = list(
        JobFeed.objects.order_by("name").values(
            "pk", "name", "active", "last_status", "last_fetched_at", "last_summary", "last_error"
        )[:12]
    )


def _mail(board: Dashboard) -> None:
    from emails.models import Email, EmailStatus
    from llm.selectors import llm_day_start
    from profiles.models import DailyDigest

    start = llm_day_start()
    board.digests_today = DailyDigest.objects.filter(created_at__gte=start).count()
    sent = Email.objects.filter(Q(sent_at__gte=start) | Q(status=EmailStatus.FAILED, created_at__gte=start))
    for row in sent.order_by().values("kind", "status").annotate(n=Count("pk")):
        if row["status"] == EmailStatus.SENT:
            board.emails_today[row["kind"]] = board.emails_today.get(row["kind"], 0) + row["n"]
        elif row["status"] == EmailStatus.FAILED:
            board.emails_failed_today += row["n"]


def _leads(board: Dashboard) -> None:
    from catalog.leads.models import LeadStage
    from catalog.leads.selectors import leads_stage_counts

    counts = leads_stage_counts()
    board.leads_by_stage = [(LeadStage(stage).label, counts[stage]) for stage in LeadStage.values]


def dashboard_build() -> Dashboard:
    """Every figure of the dashboard; a part whose app is missing or failing is left empty."""
    from batches.runner import batch_run_mode

    board = Dashboard(run_mode=batch_run_mode())
    for part in (_llm, _batches, _fallbacks, _feeds, _mail, _leads):
        with contextlib.suppress(ImportError, LookupError):
            part(board)
    return board
