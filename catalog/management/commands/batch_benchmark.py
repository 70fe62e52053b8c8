"""`python manage.py batch_benchmark --products 50000 --json`: the Batch API path end to end."""

from __future__ import annotations

import json
import statistics
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from catalog.products.benchmark import batch_benchmark
from catalog.products.selectors import locales_parse

MEDIAN_KEYS = (
    "create_products_s",
    "build_s",
    "build_upload_s",
    "build_upload_cpu_s",
    "build_upload_db_cpu_s",
    "build_upload_sim_s",
    "provider_s",
    "ingest_s",
    "ingest_cpu_s",
    "ingest_db_cpu_s",
    "ingest_rss_mb",
    "peak_rss_mb",
)


class Command(BaseCommand):
    help = (
        "Create N products, build and upload their content batch to an in-process simulator, let it "
        "answer, ingest the results, and print the figures (one line per product and locale)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=50_000)
        parser.add_argument(
            "--locales",
            default="en-US",
            help="Comma-separated locales, one line each per product (default en-US: N lines; all seven: 7N).",
        )
        parser.add_argument(
            "--repeat",
            type=int,
            default=1,
            help="Runs in this process; medians are reported with every run (peak RSS is the process's so far: "
            "run separate processes to compare memory).",
        )
        parser.add_argument("--seed", type=int, default=4)
        parser.add_argument("--keep", action="store_true", help="Keep the products, content and batch afterwards.")
        parser.add_argument(
            "--via-service",
            action="store_true",
            help="Create the batch with catalog's product_content_batch_create instead of streaming the inputs.",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object only.")

    def handle(self, *args: Any, **options: Any) -> None:
        locales = locales_parse(options["locales"])
        say = (lambda message: None) if options["json"] else (lambda message: self.stdout.write(message))
        runs = [
            batch_benchmark(
                products=options["products"],
                locales=locales,
                seed=options["seed"] + i,
                keep=options["keep"],
                via_service=options["via_service"],
                say=say,
            )
            for i in range(options["repeat"])
        ]
        result = dict(runs[0])
        if len(runs) > 1:
            for key in MEDIAN_KEYS:
                values = [run[key] for run in runs if run[key] is not None]
                result[key] = statistics.median(values) if values else None
            result["runs"] = runs
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(json.dumps(result, indent=2))
