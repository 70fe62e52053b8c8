"""``manage.py llm_metrics [--reset] [--json]``: seed 001's metrics from the ledger, or reset them."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from llm.metrics import get_metrics, metrics_reset, metrics_reset_at
from llm.serializers import LLMMetricsResetSerializer, LLMMetricsSerializer


class Command(BaseCommand):
    help = (
        "Print LLM call metrics since the last reset (requests, tokens, errors, latency, cache, circuit breaker), "
        "as GET /api/v1/llm/metrics; --reset counts from now on (ledger rows are kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Count from now on and zero the cache counters.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of lines.")

    def handle(self, *args: object, **options: Any) -> None:
        if options["reset"]:
            data = LLMMetricsResetSerializer({"reset_at": metrics_reset()}).data
            if options["json"]:
                self.stdout.write(json.dumps(data, indent=2))
            else:
                self.stdout.write(f"LLM metrics reset at {data['reset_at']}; the ledger keeps every call.")
            return
        metrics = LLMMetricsSerializer(get_metrics()).data
        if options["json"]:
            self.stdout.write(json.dumps(metrics, indent=2))
            return
        since = metrics_reset_at()
        title = f"LLM metrics since {since:%Y-%m-%d %H:%M:%S %Z}" if since else "LLM metrics (never reset: all calls)"
        width = max(len(key) for key in metrics)
        lines = [title, ""]
        lines += [f"{key.ljust(width)}  {_shown(value)}" for key, value in metrics.items()]
        self.stdout.write("\n".join(lines))


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
