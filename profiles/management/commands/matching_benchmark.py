"""``manage.py matching_benchmark --users 1000 --jobs 20000 [--check-scaling] [--json]``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiles.matching.benchmark import matching_benchmark


class Command(BaseCommand):
    help = (
        "Benchmark two-stage job scoring on synthetic people and jobs: prefilter time, query count "
        "(also at twice the people with --check-scaling), LLM calls per person through an in-process "
        "simulator, peak memory. Synthetic rows are deleted afterwards unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--jobs", type=int, default=20000)
        parser.add_argument("--check-scaling", action="store_true", help="Also run the prefilter at 2× people.")
        parser.add_argument(
            "--llm-users", type=int, default=None, help="Run the LLM stage for only this many people (default: all)."
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--keep", action="store_true", help="Keep the synthetic people and jobs.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: object, **options: Any) -> None:
        if options["users"] < 1 or options["jobs"] < 1:
            raise CommandError("--users and --jobs must be positive.")
        quiet = options["json"]
        result = matching_benchmark(
            users=options["users"],
            jobs=options["jobs"],
            check_scaling=options["check_scaling"],
            llm_users=options["llm_users"],
            seed=options["seed"],
            keep=options["keep"],
            say=(lambda line: None) if quiet else (lambda line: self.stdout.write(f"  {line}")),
        )
        if quiet:
            self.stdout.write(json.dumps(result, sort_keys=True))
            return
        self.stdout.write("")
        for key in sorted(result):
            self.stdout.write(f"{key:>24}: {result[key]}")
