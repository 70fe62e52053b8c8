"""``manage.py llm_check [--json]``: which provider the settings select, and one tiny call to it."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from llm.check import CheckReport, provider_check


class Command(BaseCommand):
    help = (
        "Show the LLM provider, endpoint and model or deployment the settings select (never a key) and make one "
        "tiny chat completion; exits non-zero when it fails. The offline provider makes no call."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of lines.")

    def handle(self, *args: object, **options: Any) -> None:
        report = provider_check()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            self.stdout.write(self._text(report))
        if not report.ok:
            raise CommandError(f"LLM check failed: {report.error}")

    def _text(self, report: CheckReport) -> str:
        if report.provider == "offline":
            return (
                "Provider:    offline (no LLM provider configured: every task answers with its rule-based fallback)\n"
                "Check:       no call made"
            )
        lines = [f"Provider:    {report.provider}"]
        if report.endpoint:
            lines.append(f"Endpoint:    {report.endpoint}")
        if report.provider == "azure":
            lines.append(f"Deployment:  {report.deployment}")
            lines.append(f"API version: {report.api_version}")
        elif report.model:
            lines.append(f"Model:       {report.model}")
        if report.ok:
            lines.append(f"Check:       OK, answered in {report.latency_ms} ms")
        elif report.called:
            lines.append(f"Check:       FAILED after {report.latency_ms} ms: {report.error}")
            if report.detail:
                lines.append(f"Provider said: {report.detail}")
        else:
            lines.append(f"Check:       FAILED: {report.error}")
        return "\n".join(lines)
