"""``manage.py emails_benchmark --emails 1000 --concurrency 20 --latency-ms 200 [--json]``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from emails.jobmail.benchmark import emails_benchmark


class Command(BaseCommand):
    help = (
        "Benchmark weekly job email generation on synthetic people and jobs against the in-process simulator: "
        "wall time, LLM calls, tokens per email, cache hit rate, peak memory. Synthetic rows are deleted afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--emails", type=int, default=1000)
        parser.add_argument("--concurrency", type=int, default=20)
        parser.add_argument("--latency-ms", type=int, default=200, help="Simulated provider latency per call.")
        parser.add_argument("--jobs", type=int, default=400, help="Active jobs to choose from.")
        parser.add_argument("--scores-per-person", type=int, default=12)
        parser.add_argument("--warm", action="store_true", help="Measure with the shared job lines cached already.")
        parser.add_argument("--send", action="store_true", help="Also send them (through the configured backend).")
        parser.add_argument(
            "--server", action="store_true", help="Run the simulator in its own process (loopback socket)."
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: object, **options: Any) -> None:
        if options["emails"] < 1 or options["concurrency"] < 1 or options["jobs"] < 1:
            raise CommandError("--emails, --concurrency and --jobs must be positive.")
        quiet = options["json"]
        result = emails_benchmark(
            emails=options["emails"],
            concurrency=options["concurrency"],
            latency_ms=options["latency_ms"],
            jobs=options["jobs"],
            scores_per_person=options["scores_per_person"],
            warm=options["warm"],
            send=options["send"],
            server=options["server"],
            seed=options["seed"],
            say=(lambda line: None) if quiet else (lambda line: self.stdout.write(f"  {line}")),
        )
        if quiet:
            self.stdout.write(json.dumps(result, sort_keys=True))
            return
        self.stdout.write("")
        for key in sorted(result):
            self.stdout.write(f"{key:>28}: {result[key]}")
