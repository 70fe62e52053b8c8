"""``manage.py generate_emails [--users a b ...] [--language ja|en] [--mock] [--send] [--mode bulk|batch]``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from emails.jobmail.selectors import profiles_for_run
from emails.jobmail.services import emails_generate_batch
from emails.models import EmailRun


class Command(BaseCommand):
    help = (
        "Generate this week's 6-section job email for people (all, or --users by profile user_id): sections from "
        "our data, words from the LLM (or rule-based with --mock / offline). Skips people who have this week's "
        "email (unless --regenerate) or unsubscribed. Progress bar on a terminal, a summary at the end."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", nargs="+", metavar="USER_ID", help="Profile user_ids (default: everyone).")
        parser.add_argument("--language", choices=["ja", "en"], help="Write in this language (default: each own).")
        parser.add_argument("--mock", action="store_true", help="No provider call: rule-based words, [MOCK] subject.")
        parser.add_argument("--send", action="store_true", help="Send them through EMAIL_BACKEND (default: drafts).")
        parser.add_argument("--regenerate", action="store_true", help="Rewrite this week's unsent emails.")
        parser.add_argument(
            "--mode", choices=list(EmailRun.Mode.values), default=EmailRun.Mode.BULK, help="bulk (now) or batch API."
        )
        parser.add_argument("--concurrency", type=int, default=None, help="Concurrent LLM calls (default: layer's).")

    def handle(self, *args: object, **options: Any) -> None:
        profile_ids = profiles_for_run(user_ids=options["users"])
        if options["users"] and len(profile_ids) < len(set(options["users"])):
            raise CommandError("Some --users have no profile (user_id).")
        if not profile_ids:
            self.stdout.write("No people to write to.")
            return
        with tqdm(total=len(profile_ids), unit="person", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:

            def progress(done: int, total: int) -> None:
                bar.update(done - bar.n)

            summary = emails_generate_batch(
                profile_ids=profile_ids,
                language=options["language"],
                mock=True if options["mock"] else None,
                send=options["send"],
                regenerate=options["regenerate"],
                mode=options["mode"],
                concurrency=options["concurrency"],
                on_progress=progress,
            )
        out = self.stdout.write
        out(
            f"people: {summary.total}; emails generated: {summary.generated} ({summary.mock} mock, "
            f"{summary.fallbacks} rule-based, {summary.cached} from cache)"
        )
        if summary.already or summary.suppressed:
            out(f"skipped: {summary.already} already had this week's email, {summary.suppressed} unsubscribed")
        if summary.deferred or summary.failed:
            out(f"not generated: {summary.deferred} deferred (provider unavailable), {summary.failed} failed")
        if options["send"]:
            out(f"sent: {summary.sent}")
        out(
            f"LLM calls: {summary.llm_calls} for words, {summary.line_calls} for job lines; tokens per email "
            f"(median): {summary.tokens_per_email_median:.0f}; cache hit rate: {summary.cache_hit_rate:.0%}"
        )
        if summary.batch_id:
            out(f"provider batch: {summary.batch_id}")
        out(f"wall time: {summary.wall_s:.1f}s")
