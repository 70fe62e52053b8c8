"""``manage.py fetch_jobs [--feed URL | --file PATH [--name NAME] | --bundled]``: refresh job feeds.

Without options it refreshes every active http(s) feed. Ends with one line per feed and totals.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.jobs.fetch import FeedFetchError
from catalog.jobs.parsing import FeedParseError
from catalog.jobs.selectors import job_feeds_due
from catalog.jobs.services import (
    FeedOutcome,
    RefreshReport,
    job_feed_get_or_create,
    job_feeds_bundled,
    job_feeds_refresh,
    job_listings_import_file,
)

PROBLEMS_SHOWN = 10
COLUMNS = ["feed", "status", "new", "updated", "unchanged", "skipped", "error"]


class Command(BaseCommand):
    help = "Fetch job feeds (guarded HTTP, conditional GET) or import a feed file, then upsert listings."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--feed", metavar="URL", help="Fetch this feed URL (added as a feed if new).")
        source.add_argument("--file", metavar="PATH", help="Import an RSS/Atom file from disk (no network).")
        source.add_argument("--bundled", action="store_true", help="Import the bundled demo feeds.")
        parser.add_argument("--name", help="Feed name for --feed/--file (default: the URL or the file name).")

    def handle(self, *args: object, **options: Any) -> None:
        report = RefreshReport()
        if options["file"]:
            report.feeds.append(self._import(options["file"], options.get("name")))
        elif options["bundled"]:
            for path in job_feeds_bundled():
                report.feeds.append(self._import(str(path), None))
        else:
            if options["feed"]:
                feeds = [job_feed_get_or_create(url=options["feed"], name=options.get("name") or "")]
            else:
                feeds = list(job_feeds_due())
            with tqdm(total=len(feeds), unit="feed", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
                report = job_feeds_refresh(feeds=feeds, on_feed=lambda _: bar.update(1))
        self.stdout.write(self._summary(report))
        if report.feeds and report.errors == len(report.feeds):
            raise CommandError("every feed failed; see the errors above")

    def _import(self, path: str, name: str | None) -> FeedOutcome:
        try:
            return job_listings_import_file(path=path, feed_name=name)
        except (FeedFetchError, FeedParseError) as exc:
            return FeedOutcome(feed_id=0, feed_name=name or path, status="error", error=str(exc))

    def _summary(self, report: RefreshReport) -> str:
        if not report.feeds:
            return "No active feeds to refresh. Add one with --feed URL, or import a file with --file PATH."
        rows = [
            [
                f.feed_name[:40],
                f.status,
                str(f.new),
                str(f.updated),
                str(f.unchanged),
                str(f.skipped),
                (f.error or f.warning)[:70],
            ]
            for f in report.feeds
        ]
        total = [
            "TOTAL",
            f"{report.errors} error(s)",
            str(report.new),
            str(report.updated),
            str(report.unchanged),
            str(report.skipped),
            "",
        ]
        cells = [COLUMNS, *rows, total]
        widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]

        def line(row: list[str]) -> str:
            return "  ".join(
                c.rjust(w) if 2 <= i <= 5 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        lines = [line(COLUMNS), rule, *(line(r) for r in rows), rule, line(total)]
        for outcome in report.feeds:
            for problem in outcome.problems[:PROBLEMS_SHOWN]:
                verb = "skipped" if problem["skipped"] else "corrected"
                said = "; ".join(problem["problems"])
                lines.append(f"  {outcome.feed_name[:30]}: {verb} {problem['item'][:60]}: {said}")
            if len(outcome.problems) > PROBLEMS_SHOWN:
                lines.append(f"  {outcome.feed_name[:30]}: … see last_problems on the feed in the admin")
        return "\n".join(lines)
