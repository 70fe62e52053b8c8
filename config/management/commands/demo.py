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
        report = demo_run(report=DemoReport())
        elapsed = time.monotonic() - started

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo finished in {elapsed:.1f}s. What it did:"))
        for line in report.done:
            self.stdout.write(f"  - {line}")
        if report.secrets_once:
            self.stdout.write(self.style.WARNING("Shown once, keep them:"))
            for line in report.secrets_once:
                self.stdout.write(f"  {line}")
        self.stdout.write("Where to look:")
        for line in report.look:
            self.stdout.write(f"  - {line}")
