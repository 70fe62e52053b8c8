"""``manage.py simulate_day --people 100 [--jobs 300]``: a day of matching, priced at gpt-4o-mini rates.

It lives in emails, the top layer, because the day ends with the digests' emails (profiles never sends).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from emails.services import digest_emails_send_due
from profiles.matching.simulation import simulate_day

TARGET_PER_100 = Decimal("0.13")  # issue 17: from $0.19 to ≤ $0.13


class Command(BaseCommand):
    help = (
        "Simulate a day of job matching for N people (hourly feed + scoring, then digests) against the "
        "in-process LLM simulator acting as provider `openai` with gpt-4o-mini pricing, then report its cost."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=100)
        parser.add_argument("--jobs", type=int, default=300, help="New postings over the day (default 300).")
        parser.add_argument("--cycles", type=int, default=24, help="Feed refresh + scoring runs (default 24, hourly).")
        parser.add_argument("--seed", type=int, default=4)
        parser.add_argument(
            "--send-emails", action="store_true", help="Send digests through EMAIL_BACKEND (default: in memory)."
        )

    def handle(self, *args: object, **options: Any) -> None:
        if options["people"] < 1 or options["jobs"] < 0 or options["cycles"] < 1:
            raise CommandError("--people and --cycles must be positive, --jobs not negative.")
        verbose = options["verbosity"] > 1
        day = simulate_day(
            people=options["people"],
            jobs=options["jobs"],
            cycles=options["cycles"],
            seed=options["seed"],
            send_emails=options["send_emails"],
            email_digests=lambda digest_ids: digest_emails_send_due(digest_ids=digest_ids).sent,
            say=(lambda line: self.stdout.write(f"  {line}")) if verbose else (lambda line: None),
        )
        self.stdout.write(
            f"Simulated day: {day.people} people ({day.new_people} new), {day.jobs_posted} new postings in "
            f"{day.cycles} hourly runs; {day.pairs_considered} pairs prefiltered, {day.llm_calls_scoring} "
            f"JOB_SCORE calls ({day.cache_hits} cache hits), {day.scores_stored} scores stored, {day.digests} "
            f"digests, {day.emails} emails; {day.wall_s}s."
        )
        for note in day.notes:
            self.stdout.write(self.style.WARNING(f"note: {note}"))
        self.stdout.write("")
        call_command("llm_costs", days=1, stdout=self.stdout)
        cost = day.cost.total.cost_usd if day.cost else Decimal(0)
        per_100 = cost * 100 / max(day.people, 1)
        line = (
            f"This simulated day: {day.cost.total.calls if day.cost else 0} LLM calls, "
            f"${cost:.4f} for {day.people} people (${per_100:.4f} per 100; target ≤ ${TARGET_PER_100})."
        )
        self.stdout.write(self.style.SUCCESS(line) if per_100 <= TARGET_PER_100 else self.style.ERROR(line))
