"""`python manage.py batch_status [BATCH_ID] [--poll]`: one batch in detail, or the latest ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from batches.models import Batch
from batches.selectors import batch_get, batch_items_list, batches_list
from batches.services import batch_poll
from config.errors import DomainError

LIST_LIMIT = 20
ERRORS_SHOWN = 10


class Command(BaseCommand):
    help = "Show a batch (parts, counts, cost, recent errors), or list the latest batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch_id", nargs="?", help="Public batch id (batch_...); omit to list batches.")
        parser.add_argument("--poll", action="store_true", help="Ask the provider first (ignores the 1-minute limit).")
        parser.add_argument("--status", help="List only batches with this status.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["batch_id"]:
            self._list(status=options["status"])
            return
        try:
            batch = batch_get(batch_id=options["batch_id"])
            if options["poll"]:
                batch = batch_poll(batch=batch, min_interval_s=0)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._show(batch)

    def _list(self, *, status: str | None) -> None:
        batches = list(batches_list(status=status)[:LIST_LIMIT])
        if not batches:
            self.stdout.write("No batches.")
            return
        for batch in batches:
            self.stdout.write(
                f"{batch.batch_id}  {batch.status:<11} {batch.task_name:<20} "
                f"applied {batch.items_applied}/{batch.item_count}  failed {batch.items_failed}  "
                f"resubmitted {batch.items_resubmitted}  ${batch.cost_usd}  {batch.created_at:%Y-%m-%d %H:%M}"
            )

    def _show(self, batch: Batch) -> None:
        w = self.stdout.write
        w(f"{batch.batch_id}  {batch.name}")
        w(f"  task      {batch.task_name} v{batch.task_version} on {batch.provider} ({batch.model})")
        w(f"  status    {batch.status}" + (f" — {batch.error_message}" if batch.error_message else ""))
        w(
            f"  items     {batch.items_applied} applied, {batch.items_failed} failed, "
            f"{batch.items_resubmitted} resubmitted, of {batch.item_count}"
        )
        w(
            f"  provider  {batch.request_completed} completed, {batch.request_failed} failed, "
            f"of {batch.request_total} requests"
        )
        w(f"  usage     {batch.tokens_in} tokens in, {batch.tokens_out} out, ${batch.cost_usd} (batch price)")
        if batch.retry_of is not None:
            w(f"  resubmits {batch.retry_of.batch_id}")
        for part in batch.parts.all():
            size_mb = part.byte_size / 1_048_576
            problem = f" — {part.error_message}" if part.error_message else ""
            w(
                f"  part {part.number}: {part.status:<11} {part.line_count} lines, {size_mb:.1f} MB, "
                f"job {part.provider_job_id or '-'}{problem}"
            )
        failures = batch_items_list(batch=batch, status="failed")[:ERRORS_SHOWN]
        for item in failures:
            w(f"  failed {item.custom_id}: {item.error_class}: {item.error_message}")
