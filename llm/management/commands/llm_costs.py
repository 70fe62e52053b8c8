"""``manage.py llm_costs --days N [--json]``: estimated LLM spend by task, model and mode."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from llm.selectors import CostReport, llm_cost_report
from llm.serializers import MAX_REPORT_DAYS, LLMCostReportSerializer

COLUMNS = ["task", "model", "mode", "calls", "tokens in", "tokens out", "fallbacks", "failed", "cost USD"]
# Text columns read left-aligned; numbers right-aligned so digits line up.
TEXT_COLUMNS = 3


class Command(BaseCommand):
    help = "Print estimated LLM spend by task, model and mode for the last N days, from the usage ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=30, help=f"Window ending now (1-{MAX_REPORT_DAYS}, default 30)."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of a table.")

    def handle(self, *args: object, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= MAX_REPORT_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_REPORT_DAYS}.")
        report = llm_cost_report(since=timezone.now() - timedelta(days=days))
        if options["json"]:
            # Same shape as GET /api/v1/llm/costs; costs are strings so no float ever rounds them.
            self.stdout.write(json.dumps({"days": days, **LLMCostReportSerializer(report).data}, indent=2))
            return
        self.stdout.write(self._table(report=report, days=days))

    def _table(self, *, report: CostReport, days: int) -> str:
        body = [
            [r.task, r.model, r.mode, r.calls, r.tokens_in, r.tokens_out, r.fallbacks, r.failed, f"{r.cost_usd:.6f}"]
            for r in report.rows
        ]
        t = report.total
        total = ["TOTAL", "", "", t.calls, t.tokens_in, t.tokens_out, t.fallbacks, t.failed, f"{t.cost_usd:.6f}"]
        cells = [COLUMNS, *[[str(c) for c in row] for row in (*body, total)]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]

        def line(row: list[str]) -> str:
            return "  ".join(
                c.ljust(w) if i < TEXT_COLUMNS else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        title = f"LLM spend, last {days} day(s) since {report.since:%Y-%m-%d %H:%M %Z}"
        if not body:
            return f"{title}\nNo LLM calls in this window."
        return "\n".join([title, "", line(cells[0]), rule, *(line(row) for row in cells[1:-1]), rule, line(cells[-1])])
