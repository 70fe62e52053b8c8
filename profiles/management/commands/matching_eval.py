"""``manage.py matching_eval [--simulator] [--json] [--fail-on-regression] [--write-baseline]``:
matching quality on the golden set against the stored baseline (profiles/matching/evaluation.py)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from profiles.matching.benchmark import simulated_provider
from profiles.matching.evaluation import BASELINE, GOLDEN_SET, baseline_write, matching_evaluate

METRICS = ("precision_at_5", "precision_at_10", "ndcg_at_10", "coverage", "shown_per_person", "model_calls")
# Unpriced model name: the simulator's ledger rows cost $0 and stay out of llm_costs' totals.
SIMULATOR_MODEL = "matching-eval-sim"


class Command(BaseCommand):
    help = (
        "Precision@5, precision@10, nDCG@10 and coverage on the golden set (people × jobs, English and "
        "Japanese), for the prefilter alone and the full pipeline (--simulator, or the configured provider), "
        "with the change against the stored baseline. A drop of precision@10 over 2 points is a regression."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--simulator", action="store_true", help="Run the pipeline's model calls on the simulator.")
        parser.add_argument(
            "--prefilter-only", action="store_true", help="Skip the pipeline (no model calls at all)."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--fail-on-regression", action="store_true", help="Exit non-zero when precision@10 regressed."
        )
        parser.add_argument("--write-baseline", action="store_true", help="Store these figures as the baseline.")
        parser.add_argument("--golden", default=str(GOLDEN_SET), help="The golden set JSON (default: the bundled one).")
        parser.add_argument("--baseline", default=str(BASELINE), help="The baseline JSON.")
        parser.add_argument("--people", type=int, default=None, help="Only the first N people (no baseline).")

    def handle(self, *args: object, **options: Any) -> None:
        golden, baseline = Path(options["golden"]), Path(options["baseline"])
        if not golden.is_file():
            raise CommandError(f"no golden set at {golden}")
        stage = None
        provider: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        if options["simulator"]:
            stage, provider = "pipeline:simulator", simulated_provider(model=SIMULATOR_MODEL)
        elif not options["prefilter_only"]:
            model = settings.OPENAI_MODEL if settings.LLM_PROVIDER != "offline" else ""
            stage = f"pipeline:{settings.LLM_PROVIDER}" + (f"/{model}" if model else "")
        with provider:
            report = matching_evaluate(
                pipeline_stage=stage, people=options["people"], golden_path=golden, baseline_path=baseline
            )
        if options["write_baseline"]:
            if options["people"]:
                raise CommandError("--write-baseline needs the whole golden set (no --people).")
            baseline_write(report, baseline)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, sort_keys=True))
        else:
            self._summary(report)
        if report.regressions and options["fail_on_regression"]:
            raise CommandError("regression: " + "; ".join(report.regressions))

    def _summary(self, report: Any) -> None:
        self.stdout.write(f"Golden set {report.golden_set} (JOB_SCORE version {report.score_version})\n")
        header = f"{'stage':<22}" + "".join(f"{name:>18}" for name in METRICS)
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for stage, metrics in report.stages.items():
            self.stdout.write(f"{stage:<22}" + "".join(f"{metrics[name]:>18}" for name in METRICS))
            for language in ("en", "ja"):
                if language in metrics:
                    part = metrics[language]
                    row = "".join(f"{part.get(name, ''):>18}" for name in METRICS)
                    label = f"  {language} ({part['people']} people)"
                    self.stdout.write(f"{label:<22}" + row)
            change = report.change.get(stage)
            if change:
                deltas = "".join(f"{change[name]:>+18}" for name in METRICS)
                self.stdout.write(f"{'  vs baseline':<22}" + deltas)
            elif stage not in report.baseline:
                self.stdout.write("  (no baseline for this stage; --write-baseline stores one)")
        for line in report.regressions:
            self.stdout.write(self.style.ERROR(f"REGRESSION {line}"))
        if not report.regressions:
            self.stdout.write(self.style.SUCCESS("No regression against the baseline."))
