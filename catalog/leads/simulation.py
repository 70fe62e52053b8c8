"""A simulated day of the leads funnel: N new postings, one funnel pass, priced from the ledger.

The LLM is the in-process simulator acting as the `openai` provider with the model name
gpt-4o-mini, so the ledger prices every call at gpt-4o-mini rates (batch lines at the Batch API
discount) exactly as `llm_costs` reports a real day. Caveat: the simulator's answers are shorter
than a real model's, so the report adds a ceiling that prices every answer at its task's
`max_output_tokens`; and it answers qualification at random, so about half the postings qualify
(a real day qualifies far fewer, and costs less in the analyze step).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as dt_time
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Sum
from django.test import override_settings
from django.utils import timezone

from catalog.leads.funnel import FunnelReport, leads_funnel_run
from catalog.leads.llm import LEAD_TASKS
from catalog.leads.selectors import conversations_started_since
from catalog.leads.services import offerings_ensure_defaults, scraped_postings_upsert
from llm.models import LLMCall
from llm.selectors import CostReport, llm_cost_report
from llm.usage import estimate_cost

SIM_MODEL = "gpt-4o-mini"
CHUNK = 500
# The largest answer a conversation turn may give (catalog.leads.conversations): the ceiling's price.
CONVERSATION_MAX_OUTPUT_TOKENS = 700
ROLES = [
    ("Data Analyst", "Build weekly reports in Excel and SQL for the sales team; today they are assembled by hand."),
    ("DevOps Engineer", "Own our AWS infrastructure, Docker builds and CI/CD; on-call incidents keep growing."),
    ("QA Engineer", "Manual regression testing before every release; help us automate testing with Selenium."),
    ("Frontend Developer", "Ship React and TypeScript features; our backlog keeps growing as we scale."),
    ("Customer Support Specialist", "Answer customer inquiries and support tickets; volume doubled this year."),
    ("Office Administrator", "Data entry, spreadsheets and scheduling for a busy office; repetitive tasks daily."),
    ("Backend Engineer", "Build Python and Django APIs; migrate a legacy system to the cloud."),
    ("Marketing Coordinator", "Plan campaigns and social posts; report results to the head of marketing."),
    ("Nurse", "Care for patients on the ward; rotating shifts."),
    ("Warehouse Associate", "Pick and pack orders; forklift licence a plus."),
]
CITIES = ["Tokyo", "Osaka", "London", "New York, NY", "San Francisco, CA", "Remote", "Berlin", "Austin, TX"]


@dataclass
class SimulatedLeadsDay:
    postings: int
    funnel: FunnelReport | None = None
    wall_s: float = 0.0
    cost: CostReport | None = None
    ceiling_usd: Decimal = Decimal(0)
    notes: list[str] = field(default_factory=list)


def _postings(rng: random.Random, tag: str, count: int) -> Iterator[dict[str, str]]:
    for n in range(count):
        role, duties = rng.choice(ROLES)
        city = rng.choice(CITIES)
        low = rng.randrange(40_000, 120_000, 1_000)
        urgent = "We need someone urgently. " if rng.random() < 0.2 else ""
        description = (
            f"{urgent}Company {rng.randint(1, 800)} is hiring a {role} in {city}. {duties} "
            f"You will work with a small team that is growing fast and report to the operations manager. "
            f"Requirements: two years of experience, clear written English, attention to detail. "
            f"Salary: ${low:,} - ${low + rng.randrange(10_000, 40_000, 1_000):,} per year. "
            "Benefits: health insurance, hybrid work, training budget. Apply through our careers page."
        )
        yield {
            "title": role,
            "company": f"Company {rng.randint(1, 800)}",
            "location": city,
            "description": description,
            "url": f"https://jobs.example.com/simulated/{tag}/{n}",
        }


@contextmanager
def simulated_provider(*, seed: int) -> Iterator[None]:
    """The layer pointed at an in-process simulator as `openai` with gpt-4o-mini pricing; its
    batches finish on the first poll."""
    from llm.providers import clients_reset, use_transport
    from llm.simulator import Simulator

    sim = Simulator(seed=seed, batch_polls_per_stage=0)
    try:
        with (
            override_settings(
                LLM_PROVIDER="openai", OPENAI_API_KEY="sk-simulated", OPENAI_BASE_URL="", OPENAI_MODEL=SIM_MODEL
            ),
            use_transport(sim.transport()),
        ):
            yield
    finally:
        sim.close()
        clients_reset()


def _ceiling(since: object) -> Decimal:
    """The day's cost if every answer had used its task's max_output_tokens (input as billed)."""
    max_out = {task.name: task.max_output_tokens for task in LEAD_TASKS.values()}
    total = Decimal(0)
    rows = (
        LLMCall.objects.filter(created_at__gte=since)
        .values("task", "mode", "provider", "model")
        .annotate(calls=Count("pk"), tokens_in=Sum("tokens_in"), tokens_cached=Sum("tokens_cached"))
    )
    for row in rows:
        out = max_out.get(row["task"], CONVERSATION_MAX_OUTPUT_TOKENS) * row["calls"]
        total += estimate_cost(
            provider=row["provider"],
            model=row["model"],
            tokens_in=row["tokens_in"] or 0,
            tokens_cached=row["tokens_cached"] or 0,
            tokens_out=out,
            batch=row["mode"] == LLMCall.Mode.BATCH,
        )
    return total


def simulate_leads_day(*, postings: int = 1000, seed: int = 3, top_n: int | None = None) -> SimulatedLeadsDay:
    """Post `postings` new scraped postings, run the funnel once against the simulator, price the day."""
    rng = random.Random(seed)
    started, clock = timezone.now(), time.perf_counter()
    day = SimulatedLeadsDay(postings=postings)
    tag = f"{started:%Y%m%d%H%M%S}"
    offerings_ensure_defaults()
    batch: list[dict[str, str]] = []
    for posting in _postings(rng, tag, postings):
        batch.append(posting)
        if len(batch) >= CHUNK:
            scraped_postings_upsert(postings=batch)
            batch = []
    if batch:
        scraped_postings_upsert(postings=batch)
    # The simulated day has its own LEADS_TOP_N conversations, whatever ran earlier today.
    day_start = datetime.combine(started.date(), dt_time.min, tzinfo=timezone.get_current_timezone())
    quota = (top_n if top_n is not None else settings.LEADS_TOP_N) + conversations_started_since(since=day_start)
    with simulated_provider(seed=seed):
        day.funnel = leads_funnel_run(top_n=quota)
    day.wall_s = round(time.perf_counter() - clock, 1)
    day.cost = llm_cost_report(since=started)
    day.ceiling_usd = _ceiling(started)
    return day
