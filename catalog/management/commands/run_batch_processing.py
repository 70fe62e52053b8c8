import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.products.llm import PRODUCT_CONTENT
from catalog.products.models import LOCALES
from catalog.products.selectors import locales_parse, products_status_report
from catalog.products.services.generation import product_content_batch_create
from config.errors import DomainError

LIST_LIMIT = 20


class Command(BaseCommand):
    help = (
        "Product content through the provider's Batch API (seed 002): `pipeline` creates a batch of N "
        "products per category × locales, submits it, monitors it and applies the results; `test` creates "
        "a small test batch; `list` shows recent batches; `status` counts products by processing status."
    )

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("--action", choices=["pipeline", "test", "list", "status"], required=True)
        parser.add_argument("--category-limit", type=int, default=3, help="Products per category (default 3).")
        parser.add_argument("--locales", default="", help=f"Comma-separated; default all: {','.join(LOCALES)}.")
        parser.add_argument(
            "--include-completed", action="store_true", help="Also take products whose content is complete."
        )
        parser.add_argument("--poll-interval", type=float, default=30.0, help="Seconds between polls (default 30).")
        parser.add_argument("--timeout", type=float, default=None, help="Stop monitoring after this many seconds.")

    def handle(self, *args: object, action: str, **options: Any) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _pipeline(self, *, category_limit: int, locales: str, include_completed: bool, **options: Any) -> None:
        from batches.services import batch_run_pipeline

        if category_limit < 1:
            raise CommandError("--category-limit must be at least 1.")
        wanted = locales_parse(locales)
        batch = product_content_batch_create(
            category_limit=category_limit, locales=wanted, include_completed=include_completed
        )
        self.stdout.write(
            f"Created batch {batch.batch_id}: {batch.item_count} line(s) "
            f"({category_limit} product(s) per category × {len(wanted)} locale(s)). Submitting…"
        )
        bar = tqdm(total=batch.item_count, unit="line", file=sys.stderr, disable=not sys.stderr.isatty())

        def progress(current) -> None:  # noqa: ANN001 - batches.models.Batch
            done = current.items_settled if current.ingested_at else current.request_completed + current.request_failed
            if current.pk != batch.pk:
                bar.set_description(f"retry {current.batch_id[-8:]}")
                bar.reset(total=current.item_count)
            bar.n = min(done, bar.total)
            bar.set_postfix_str(current.status)
            bar.refresh()

        try:
            result = batch_run_pipeline(
                batch=batch, on_progress=progress, poll_interval=options["poll_interval"], timeout_s=options["timeout"]
            )
        finally:
            bar.close()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Pipeline finished."))
        for run in result.batches:
            self.stdout.write(
                f"  {run.batch_id}  {run.status:<10} lines {run.item_count:>6}  applied {run.items_applied:>6}  "
                f"failed {run.items_failed:>5}  resubmitted {run.items_resubmitted:>5}  cost ${run.cost_usd:.4f}"
            )
        self.stdout.write(f"  applied {result.applied}, failed {result.failed}")
        self._status()

    def _test(self, **options: Any) -> None:
        batch = product_content_batch_create(
            category_limit=1, locales=["en-US"], include_completed=True, name="product content: test batch"
        )
        self.stdout.write(
            self.style.SUCCESS(f"Created test batch {batch.batch_id} with {batch.item_count} line(s) (en-US).")
        )
        self.stdout.write(
            f"Submit it: POST /api/v1/batch/submit/{batch.batch_id}, or from /admin/batches/batch/{batch.pk}/change/"
        )

    def _list(self, **options: Any) -> None:
        from batches.selectors import batches_list

        batches = list(batches_list(task_name=PRODUCT_CONTENT.name)[:LIST_LIMIT])
        if not batches:
            self.stdout.write("No product content batches yet.")
            return
        self.stdout.write(
            f"{'batch id':<40} {'status':<11} {'lines':>6} {'applied':>7} {'failed':>6} {'cost':>9}  created"
        )
        for batch in batches:
            self.stdout.write(
                f"{batch.batch_id:<40} {batch.status:<11} {batch.item_count:>6} {batch.items_applied:>7} "
                f"{batch.items_failed:>6} {batch.cost_usd:>9.4f}  {batch.created_at:%Y-%m-%d %H:%M}"
            )

    def _status(self, **options: Any) -> None:
        report = products_status_report()
        statuses = list(report.by_status)
        self.stdout.write("")
        self.stdout.write(f"{'category':<24} {'total':>6} " + " ".join(f"{s:>9}" for s in statuses))
        for row in report.categories:
            self.stdout.write(
                f"{row.category[:24]:<24} {row.total:>6} " + " ".join(f"{row.by_status[s]:>9}" for s in statuses)
            )
        self.stdout.write(f"{'all':<24} {report.total:>6} " + " ".join(f"{report.by_status[s]:>9}" for s in statuses))
        self.stdout.write(
            f"Stored contents: {report.contents} (product × locale), {report.fallback_contents} rule-based fallback(s)."
        )
