import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from llm.benchmark import benchmark_run, processes_run


class Command(BaseCommand):
    help = (
        "Benchmark the llm layer: N distinct structured requests in bulk mode against the configured provider "
        "(or an in-process simulator with --simulator), plus the layer's per-call overhead over raw SDK calls."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--concurrency", type=int, default=10)
        parser.add_argument("--repeat", type=int, default=1, help="Runs; medians are reported.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--no-overhead", action="store_true", help="Skip the overhead measurement.")
        many = parser.add_argument_group("many processes, one limit")
        many.add_argument(
            "--processes",
            type=int,
            default=None,
            help="Run N OS processes (spawned, each with its own Django) against one loopback simulator "
            "with --sim-rpm (default 600) and --sim-latency-ms (default 100); --requests in all, "
            "--concurrency per process.",
        )
        many.add_argument(
            "--kill-one-after", type=float, default=None, help="Kill one process (SIGKILL) this many seconds in."
        )
        sim = parser.add_argument_group("in-process simulator")
        sim.add_argument("--simulator", action="store_true", help="Run against an in-process simulator.")
        sim.add_argument("--sim-latency-ms", type=int, default=0)
        sim.add_argument("--sim-rpm", type=int, default=None)
        sim.add_argument("--sim-tpm", type=int, default=None)
        sim.add_argument(
            "--sim-rate-window", type=float, default=1.0, help="Enforce the simulated RPM/TPM per this many seconds."
        )
        sim.add_argument("--sim-hang-seconds", type=float, default=30.0)
        sim.add_argument("--sim-fail-5xx", type=float, default=0.0)
        sim.add_argument("--sim-hang", type=float, default=0.0)
        sim.add_argument("--sim-insufficient-quota", type=float, default=0.0)
        sim.add_argument("--sim-seed", type=int, default=0)

    def handle(self, *args: object, **options: Any) -> None:
        if options["processes"]:
            result = processes_run(
                processes=options["processes"],
                requests=options["requests"],
                concurrency=options["concurrency"],
                rpm=options["sim_rpm"] or 600,
                latency_ms=options["sim_latency_ms"] or 100,
                kill_one_after=options["kill_one_after"],
                seed=options["sim_seed"],
            )
            self.stdout.write(json.dumps(result, default=str) if options["json"] else json.dumps(result, indent=2))
            return
        sim_options = None
        if options["simulator"]:
            sim_options = {
                "latency_ms": options["sim_latency_ms"],
                "rpm": options["sim_rpm"],
                "tpm": options["sim_tpm"],
                "rate_window_s": options["sim_rate_window"],
                "hang_seconds": options["sim_hang_seconds"],
                "fail_5xx": options["sim_fail_5xx"],
                "hang": options["sim_hang"],
                "insufficient_quota": options["sim_insufficient_quota"],
                "seed": options["sim_seed"],
            }
        result = benchmark_run(
            requests=options["requests"],
            concurrency=options["concurrency"],
            repeat=options["repeat"],
            sim_options=sim_options,
            measure_overhead=not options["no_overhead"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))
            return
        for key, value in result.items():
            if key != "runs":
                self.stdout.write(f"{key:>24}: {value}")
