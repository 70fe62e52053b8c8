"""``manage.py llm_simulator``: serve the OpenAI-compatible simulator on loopback until Ctrl-C."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from llm.simulator import Simulator, SimulatorConfig, serve

# Fault-rate options: ``--fail-5xx`` -> ``fail_5xx`` etc. (argparse dests match SimulatorConfig fields).
_RATE_OPTIONS = (
    "fail_5xx",
    "hang",
    "rate_limit",
    "insufficient_quota",
    "truncate",
    "invalid_json",
    "refusal",
    "content_filter",
)


class Command(BaseCommand):
    help = "Serve the OpenAI-compatible LLM simulator on a loopback port (point OPENAI base URL at it)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, required=True, help="TCP port (0 = pick a free one).")
        parser.add_argument("--host", default="127.0.0.1", help="Loopback address to bind (default 127.0.0.1).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--rpm", type=int, default=None)
        parser.add_argument("--tpm", type=int, default=None)
        parser.add_argument(
            "--rate-window", type=float, default=60.0, help="Seconds over which --rpm/--tpm are enforced (1 = smooth)."
        )
        parser.add_argument("--hang-seconds", type=float, default=30.0)
        parser.add_argument("--require-api-key", default=None)
        parser.add_argument("--no-responses-api", action="store_true", help="Answer 404 on /responses.")
        parser.add_argument(
            "--azure-deployment",
            action="append",
            default=None,
            help="An Azure deployment to serve (repeatable; default: any name). Others answer DeploymentNotFound.",
        )
        for name in _RATE_OPTIONS:
            parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=0.0, metavar="RATE")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            config = SimulatorConfig(
                seed=options["seed"],
                latency_ms=options["latency_ms"],
                rpm=options["rpm"],
                tpm=options["tpm"],
                rate_window_s=options["rate_window"],
                hang_seconds=options["hang_seconds"],
                require_api_key=options["require_api_key"],
                responses_api=not options["no_responses_api"],
                azure_deployments=tuple(options["azure_deployment"]) if options["azure_deployment"] else None,
                **{name: options[name] for name in _RATE_OPTIONS},
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()
        with Simulator(config) as sim:
            try:
                with serve(sim, host=options["host"], port=options["port"]) as base_url:
                    self.stdout.write(f"LLM simulator listening on {base_url} (Ctrl-C to stop)")
                    # Azure clients take the resource root and add /openai/...?api-version=... themselves.
                    self.stdout.write(f"Azure: AZURE_OPENAI_ENDPOINT={base_url.removesuffix('/v1')}")
                    self.stdout.flush()
                    while not stop.wait(1.0):
                        continue
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            except KeyboardInterrupt:
                self.stdout.write("LLM simulator stopped.")
