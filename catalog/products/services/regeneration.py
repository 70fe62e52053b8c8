"""Regenerating the content stored as rule-based fallback, once the provider is healthy again.

Cheapest mode first: by default the fallback locales go into one Batch API job (about half the
price); `urgent` runs them now in bulk. Either way the lines taken are capped so that their
estimated cost fits what is left of the day's LLM budget (LLM_DAILY_BUDGET_USD less today's
ledger spend, or a smaller `budget_usd`), the rest waits for the next run. Nothing happens while
the provider's breaker is not closed or no provider is configured (regenerating would only write
fallback text again), and a product with a line still waiting in an open batch is never batched
twice. One run at a time (a lease).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from catalog.products.llm import PRODUCT_CONTENT
from catalog.products.selectors import product_fallback_pairs, products_for_inputs
from catalog.products.services.generation import (
    MAX_BATCH_ITEMS,
    GenerationSummary,
    product_content_batch_create,
    product_content_generate_now,
    product_content_input,
    product_custom_id,
)
from config.errors import DomainError
from config.leases import HeldLease, lease_hold
from llm.batching import LineBuilder
from llm.breaker import CLOSED, OPEN, get_breaker
from llm.providers import provider_config
from llm.selectors import llm_spend_today
from llm.usage import estimate_cost

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from batches.models import Batch

LEASE_NAME = "catalog:product_fallbacks_regenerate"
LEASE_TTL_S = 600
# An urgent run calls the provider from this process: at most this many lines per run.
URGENT_MAX_ITEMS = 2000
_PRODUCT_CHUNK = 500


@dataclass
class FallbackRegeneration:
    """What a regeneration run found and did (or, dry, would do)."""

    mode: str  # "batch", "now" or "none"
    reason: str = ""  # why nothing was done, when mode is "none"
    breaker_state: str = CLOSED
    fallback_pairs: int = 0  # stored fallbacks that could be taken now
    already_queued: int = 0  # fallbacks left out: their product waits in an open batch
    selected: int = 0  # lines taken (within the budget and the per-run cap)
    left_for_later: int = 0  # lines that did not fit this run
    estimated_cost_usd: Decimal = Decimal(0)
    budget_left_usd: Decimal | None = None  # None: no budget set
    dry_run: bool = False
    # The breaker was open with its cool-down over: the first line went now, as the breaker's trial.
    trial: bool = False
    batch: Batch | None = None
    generation: GenerationSummary | None = None
    pairs: list[tuple[int, str]] = field(default_factory=list)

    def describe(self) -> str:
        """One line for a message, a log or a command's summary."""
        if self.mode == "none":
            return self.reason
        budget = "no daily budget" if self.budget_left_usd is None else f"${self.budget_left_usd:.4f} left today"
        head = (
            f"{self.selected} of {self.fallback_pairs} fallback locale(s) "
            f"{'would go' if self.dry_run else 'went'} {'into a batch' if self.mode == 'batch' else 'to the model now'}"
            f", estimated ${self.estimated_cost_usd:.4f} ({budget})"
        )
        parts = [head]
        if self.trial:
            parts.append("the breaker's cool-down was over: the first line goes now as its trial call")
        if self.left_for_later:
            parts.append(f"{self.left_for_later} left for a later run (budget or per-run cap)")
        if self.already_queued:
            parts.append(f"{self.already_queued} skipped: their product waits in an open batch")
        if self.batch is not None:
            parts.append(f"batch {self.batch.batch_id} ({self.batch.status})")
        if self.generation is not None:
            g = self.generation
            parts.append(
                f"{g.model_written} written by the model, {g.deferred} deferred (provider unavailable), "
                f"{g.fallbacks} still fallback, {g.failed} failed"
            )
        return "; ".join(parts) + "."


def _budget_left(*, budget_usd: Decimal | None, now: datetime | None) -> Decimal | None:
    """What may be spent: the day's budget less today's spend, or `budget_usd` if smaller; None: no limit."""
    daily = Decimal(str(settings.LLM_DAILY_BUDGET_USD))
    left = max(daily - llm_spend_today(now=now), Decimal(0)) if daily > 0 else None
    if budget_usd is not None:
        left = budget_usd if left is None else min(left, budget_usd)
    return left


def _within_budget(
    *, pairs: list[tuple[int, str]], batch: bool, budget_left: Decimal | None, max_items: int
) -> tuple[list[tuple[int, str]], Decimal]:
    """The leading pairs whose estimated cost fits `budget_left`, and that estimate.

    The estimate is the batch app's own (batches.services.create.batch_cost_estimate): request
    bytes / 4 as input tokens and every answer at the task's output cap, at batch prices for a batch.
    """
    config = provider_config()
    builder = LineBuilder(PRODUCT_CONTENT, config)
    taken: list[tuple[int, str]] = []
    input_bytes = 0
    estimate = Decimal(0)
    wanted: dict[int, list[str]] = {}
    for product_id, locale in pairs:
        wanted.setdefault(product_id, []).append(locale)
    ids = list(wanted)
    for start in range(0, len(ids), _PRODUCT_CHUNK):
        for product in products_for_inputs(product_ids=ids[start : start + _PRODUCT_CHUNK]):
            for locale in wanted[product.pk]:
                if len(taken) >= max_items:
                    return taken, estimate
                task_input = product_content_input(product=product, locale=locale)
                line = builder.line(product_custom_id(product_id=product.pk, locale=locale), task_input)
                cost = estimate_cost(
                    provider=config.kind,
                    model=config.model,
                    tokens_in=(input_bytes + len(line)) // 4,
                    tokens_out=(len(taken) + 1) * PRODUCT_CONTENT.max_output_tokens,
                    batch=batch,
                )
                if budget_left is not None and cost > budget_left:
                    return taken, estimate
                taken.append((product.pk, locale))
                input_bytes += len(line)
                estimate = cost
    return taken, estimate


def product_fallbacks_regenerate(
    *,
    urgent: bool = False,
    budget_usd: Decimal | None = None,
    now: datetime | None = None,
    product_ids: list[int] | None = None,
    dry_run: bool = False,
    created_by: User | AnonymousUser | None = None,
) -> FallbackRegeneration:
    """Regenerate the stored fallbacks (all, or of `product_ids`) within the day's budget: a batch,
    or now when `urgent`. Does nothing, and says why, while the provider is not healthy.

    A batch is created and built here; carrying it to the provider is the caller's (a task queues
    it, a command or the admin runs it). LeaseBusyError when another run is at it.
    """
    config = provider_config()
    breaker = get_breaker(config.name)
    state = breaker.state
    if config.kind == "offline":
        return FallbackRegeneration(
            mode="none", reason="No LLM provider is configured (offline): regenerating would write fallback text again."
        )
    # An open circuit turns half-open only when a call takes the trial: past its cool-down our first
    # call is that trial (with no other traffic nothing else would ever close it).
    opened_until = breaker.opened_until if state == OPEN else None
    needs_trial = state == OPEN and (opened_until is None or opened_until <= timezone.now())
    if state != CLOSED and not needs_trial:
        until = f" (cool-down until {opened_until:%H:%M:%S} UTC)" if opened_until is not None else ""
        return FallbackRegeneration(
            mode="none",
            breaker_state=state,
            reason=f"The provider's circuit breaker is {state}{until}: nothing regenerated until it closes.",
        )
    busy = "A fallback regeneration is already running."
    # A dry run writes nothing, so it needs no lease (and can look while a run is going on).
    hold: AbstractContextManager[HeldLease | None] = (
        nullcontext(None) if dry_run else lease_hold(name=LEASE_NAME, ttl_s=LEASE_TTL_S, busy_message=busy)
    )
    with hold as held:
        pairs, already_queued = product_fallback_pairs(product_ids=product_ids)
        budget_left = _budget_left(budget_usd=budget_usd, now=now)
        trial: list[tuple[int, str]] = []
        trial_cost = Decimal(0)
        if needs_trial and not urgent:
            # One line now (full price) as the breaker's trial; the batch gets what then fits.
            trial, trial_cost = _within_budget(pairs=pairs[:1], batch=False, budget_left=budget_left, max_items=1)
        rest = pairs[len(trial) :] if trial or not needs_trial or urgent else []
        taken, estimate = _within_budget(
            pairs=rest,
            batch=not urgent,
            budget_left=None if budget_left is None else budget_left - trial_cost,
            max_items=URGENT_MAX_ITEMS if urgent else MAX_BATCH_ITEMS,
        )
        taken, estimate = trial + taken, trial_cost + estimate
        report = FallbackRegeneration(
            mode="now" if urgent else "batch",
            fallback_pairs=len(pairs),
            already_queued=already_queued,
            selected=len(taken),
            left_for_later=len(pairs) - len(taken),
            estimated_cost_usd=estimate,
            budget_left_usd=budget_left,
            dry_run=dry_run,
            trial=bool(trial),
            pairs=taken,
        )
        if not pairs:
            report.mode, report.reason = (
                "none",
                "No fallback content to regenerate"
                + (f" ({already_queued} waiting in open batches)." if already_queued else "."),
            )
            return report
        if not taken:
            report.mode = "none"
            report.reason = (
                f"Not one of {len(pairs)} fallback locale(s) fits the budget left today "
                f"(${budget_left or 0:.4f}); they wait for a later run."
            )
            return report
        if held is None:
            return report
        lease = held

        def renew(done: int, total: int) -> None:
            lease.keep()  # a long urgent run keeps its lease (renewed now and then); a dead one's expires

        def generate_now(pairs: list[tuple[int, str]]) -> GenerationSummary:
            return product_content_generate_now(
                product_ids=[],
                pairs=pairs,
                only_fallback=True,
                user_id=getattr(created_by, "pk", None),
                on_progress=renew,
                defer_when_unavailable=True,
            )

        try:
            if urgent:
                report.generation = generate_now(taken)
            else:
                batched = taken[len(trial) :]
                if trial:
                    report.generation = generate_now(trial)
                    outcome = report.generation
                    if not outcome.model_written:
                        report.mode = "none"
                        report.reason = (
                            "The provider's breaker was open past its cool-down and the trial call did not succeed "
                            f"({outcome.deferred} deferred, {outcome.failed} failed): nothing batched."
                        )
                        return report
                if batched:
                    report.batch = product_content_batch_create(
                        pairs=batched,
                        only_fallback=True,
                        created_by=created_by,
                        name=f"fallback regeneration: {len(batched)} line(s)",
                    )
        except DomainError as exc:
            if exc.code != "nothing_to_generate":
                raise
            # Model content arrived for every chosen locale since they were read: nothing left to do.
            report.mode, report.reason = "none", "The chosen fallback locales were regenerated meanwhile."
    return report
