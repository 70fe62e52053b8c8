from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.products.services.regeneration import product_fallbacks_regenerate
from config.errors import DomainError


def _usd(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise CommandError(f"--budget-usd must be a number, got {raw!r}.") from None
    if not value.is_finite() or value < 0:
        raise CommandError("--budget-usd must be zero or more.")
    return value


class Command(BaseCommand):
    help = (
        "Regenerate every product locale stored as rule-based fallback, once the provider's breaker is "
        "closed: through the Batch API (half price) by default, or now with --urgent, with the lines capped "
        "so their estimated cost fits today's remaining LLM budget (LLM_DAILY_BUDGET_USD, or --budget-usd "
        "if smaller). Products waiting in an open batch are left out. Without a broker the batch is "
        "carried to the end here (submit, poll, ingest)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--urgent", action="store_true", help="Call the model now (full price) instead of a batch.")
        parser.add_argument("--budget-usd", default=None, help="Spend at most this much (USD) in this run.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be regenerated; change nothing.")
        parser.add_argument("--poll-interval", type=float, default=30.0, help="Seconds between polls (default 30).")

    def handle(self, *args: object, urgent: bool, budget_usd: str | None, dry_run: bool, **options: Any) -> None:
        budget = None if budget_usd is None else _usd(budget_usd)
        try:
            report = product_fallbacks_regenerate(urgent=urgent, budget_usd=budget, dry_run=dry_run)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        prefix = "Dry run: " if dry_run else ""
        if report.mode == "none":
            self.stdout.write(prefix + report.reason)
            return
        self.stdout.write(prefix + report.describe())
        if dry_run:
            by_product: dict[int, list[str]] = {}
            for product_id, locale in report.pairs:
                by_product.setdefault(product_id, []).append(locale)
            for product_id, locales in list(by_product.items())[:20]:
                self.stdout.write(f"  product {product_id}: {', '.join(locales)}")
            if len(by_product) > 20:
                self.stdout.write(f"  … and {len(by_product) - 20} more product(s)")
            return
        if report.batch is not None:
            self._carry(report.batch, poll_interval=options["poll_interval"])

    def _carry(self, batch: Any, *, poll_interval: float) -> None:
        from batches.runner import batch_carry_start, batch_run_mode
        from batches.services import batch_run_pipeline

        if batch.status == batch.Status.AWAITING_APPROVAL:
            self.stdout.write(
                f"Batch {batch.batch_id} (estimated ${batch.estimated_cost_usd:.2f}) is above BATCH_APPROVAL_USD: "
                "it waits for a staff member's approval in the admin."
            )
            return
        if batch_run_mode() == "celery":
            batch_carry_start(batch=batch)
            self.stdout.write(f"Batch {batch.batch_id} queued for submission; the scheduler polls and ingests it.")
            return
        try:
            result = batch_run_pipeline(batch=batch, poll_interval=poll_interval)
        except DomainError as exc:
            raise CommandError(f"Batch {batch.batch_id}: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Batch {batch.batch_id}: applied {result.applied}, failed {result.failed}.")
        )
