"""``manage.py leads_simulate_day --postings 1000``: a day of the leads funnel, priced at gpt-4o-mini rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.leads.simulation import SIM_MODEL, simulate_leads_day

TARGET_PER_DAY = Decimal("0.50")


class Command(BaseCommand):
    help = (
        "Simulate a day of the leads funnel: N new scraped postings, qualified and analyzed through the Batch "
        f"API, the top leads in conversation, against the in-process simulator acting as `openai` with {SIM_MODEL} "
        "pricing; then print `llm_costs --days 1` and the day's figure against the $0.50 target."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--postings", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=3)
        parser.add_argument("--top", type=int, default=None, help="Conversations (default LEADS_TOP_N).")

    def handle(self, *args: object, **options: Any) -> None:
        if options["postings"] < 1:
            raise CommandError("--postings must be at least 1.")
        day = simulate_leads_day(postings=options["postings"], seed=options["seed"], top_n=options["top"])
        funnel = day.funnel
        if funnel is None:  # simulate_leads_day always runs the funnel
            raise CommandError("The funnel did not run.")
        self.stdout.write(
            f"Simulated leads day: {day.postings} postings; {funnel.new_leads} new leads; "
            f"qualify {funnel.qualify.mode} {funnel.qualify.applied}/{funnel.qualify.due} applied "
            f"({funnel.qualify.failed} failed); analyze "
            f"{funnel.analyze.mode} {funnel.analyze.applied}/{funnel.analyze.due}; {funnel.conversations} "
            f"conversations, {funnel.drafts} drafts; {day.wall_s}s."
        )
        for note in [*funnel.notes, *day.notes]:
            self.stdout.write(self.style.WARNING(f"note: {note}"))
        self.stdout.write("")
        call_command("llm_costs", days=1, stdout=self.stdout)
        cost = day.cost.total.cost_usd if day.cost else Decimal(0)
        line = (
            f"This simulated day: {day.cost.total.calls if day.cost else 0} LLM calls, ${cost:.4f} for "
            f"{day.postings} postings (target ≤ ${TARGET_PER_DAY} per 1,000); ceiling with every answer at its "
            f"max_output_tokens: ${day.ceiling_usd:.4f}."
        )
        per_1000 = cost * 1000 / max(day.postings, 1)
        self.stdout.write(self.style.SUCCESS(line) if per_1000 <= TARGET_PER_DAY else self.style.ERROR(line))
