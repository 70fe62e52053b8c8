"""`python manage.py batches_reconcile`: put batches left without a live owner back in line, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from batches.services import batches_reconcile

SHOWN = 10


class Command(BaseCommand):
    help = (
        "Submit batches built but never submitted, resume interrupted submissions, send parts that never "
        "got a provider job, ingest finished batches nobody ingested, and release dead workers' leases "
        "(what the 5-minute schedule does). Safe to run at any time, also beside the schedule."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = batches_reconcile()
        for label, batch_ids in (
            ("submitted", report.submitted),
            ("rebuilt", report.rebuilt),
            ("resumed", report.resumed),
            ("ingested", report.ingested),
            ("skipped", report.skipped),
        ):
            if batch_ids:
                more = f" (+{len(batch_ids) - SHOWN} more)" if len(batch_ids) > SHOWN else ""
                self.stdout.write(f"  {label:<10} {', '.join(batch_ids[:SHOWN])}{more}")
        for batch_id, message in list(report.errors.items())[:SHOWN]:
            self.stdout.write(self.style.WARNING(f"  error      {batch_id}: {message}"))
        summary = (
            f"Reconciled: {len(report.submitted)} submitted ({len(report.rebuilt)} rebuilt), "
            f"{len(report.resumed)} resumed, {len(report.ingested)} ingested, "
            f"{len(report.leases_released)} lease(s) released, {len(report.skipped)} skipped, "
            f"{len(report.errors)} error(s)."
        )
        if not (report.acted or report.leases_released or report.errors or report.skipped):
            summary = "Nothing to reconcile: no batch is left without an owner."
        self.stdout.write(self.style.WARNING(summary) if report.errors else self.style.SUCCESS(summary))
