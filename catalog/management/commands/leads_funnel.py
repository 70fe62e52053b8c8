"""``manage.py leads_funnel [--limit N] [--now]``: one pass of the leads funnel by hand, with progress."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.leads.funnel import StepReport, leads_funnel_run
from catalog.leads.selectors import leads_stage_counts
from config.errors import DomainError


class Command(BaseCommand):
    help = (
        "Run the leads funnel once: new postings become leads and are qualified, the qualified are analyzed "
        "(through the Batch API; --now: concurrently now), and the day's top LEADS_TOP_N leads get the "
        "conversational analysis and an outreach draft. Drafts wait for a person in the Emails admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="At most N leads per step (default: all due).")
        parser.add_argument("--now", action="store_true", help="Run qualify and analyze now (bulk), not in batches.")
        parser.add_argument("--top", type=int, default=None, help="Conversations today (default LEADS_TOP_N).")

    def handle(self, *args: object, **options: Any) -> None:
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        bars: dict[str, tqdm] = {}

        def progress(step: str, done: int, total: int) -> None:
            bar = bars.get(step)
            if bar is None:
                bar = bars[step] = tqdm(
                    total=total, desc=step, unit="lead", file=sys.stderr, disable=not sys.stderr.isatty()
                )
            bar.total = total
            bar.n = min(done, total)
            bar.refresh()

        try:
            report = leads_funnel_run(limit=limit, now=options["now"], top_n=options["top"], on_progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(f"New leads: {report.new_leads}")
        for name, step in (("qualify", report.qualify), ("analyze", report.analyze)):
            self.stdout.write(self._step(name, step))
        self.stdout.write(
            f"Conversations: {report.conversations} ({report.conversation_fallbacks} with rule-based turns), "
            f"outreach drafts: {report.drafts}"
        )
        for note in report.notes:
            self.stdout.write(self.style.WARNING(f"note: {note}"))
        stages = ", ".join(f"{stage} {count}" for stage, count in leads_stage_counts().items() if count)
        self.stdout.write(self.style.SUCCESS(f"Leads by stage: {stages or 'none'}"))

    @staticmethod
    def _step(name: str, step: StepReport) -> str:
        if not step.due:
            return f"{name}: nothing due"
        line = f"{name} ({step.mode}): {step.due} due, {step.applied} applied, {step.failed} failed"
        if step.deferred:
            line += f", {step.deferred} deferred (provider unavailable)"
        if step.fallbacks:
            line += f", {step.fallbacks} rule-based"
        if step.batch is not None:
            line += f"; batch {step.batch.batch_id} {step.batch.status}"
            if step.batch.note:
                line += f" ({step.batch.note})"
        return line
