import time

from django.conf import settings
from django.core.management.base import BaseCommand

from config.demo import DemoReport, demo_run


class Command(BaseCommand):
    help = "Run ContentOps' main job on whatever services are configured (none needed) and summarize it."

    def handle(self, *args: object, **options: object) -> None:
        started = time.monotonic()
        database = settings.DATABASES["default"]
        self.stdout.write(f"ContentOps demo on {database['ENGINE'].rsplit('.', 1)[-1]} ({database['NAME']})")
        calls_before = _ledger_rows()
        report = demo_run(report=DemoReport())
        elapsed = time.monotonic() - started
        made = _ledger_rows() - calls_before

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo finished in {elapsed:.1f}s. What it did:"))
        for line in report.done:
            self.stdout.write(f"  - {line}")
        if made:
            self.stdout.write(f"  = {made} LLM call(s) recorded in the usage ledger by this run")
        else:
            self.stdout.write(
                self.style.SUCCESS("  = Nothing new: every step was done already; this run made no LLM calls.")
            )
        if report.secrets_once:
            self.stdout.write(self.style.WARNING("Shown once, keep them:"))
            for line in report.secrets_once:
                self.stdout.write(f"  {line}")
        self.stdout.write("Where to look:")
        for line in report.look:
            self.stdout.write(f"  - {line}")


def _ledger_rows() -> int:
    from django.db import DatabaseError

    from llm.models import LLMCall

    try:
        return LLMCall.objects.count()
    except DatabaseError:  # before the first migration
        return 0
