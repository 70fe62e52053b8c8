"""Celery tasks for product content. Arguments are ids and locale codes only; the work is the service's.

Applying content is an upsert on (product, locale), so a task redelivered after a worker died
(acks_late + reject_on_worker_lost) writes the same rows again and nothing twice.

No person waits on a task, so these defer rather than fall back: what the provider cannot serve
(open breaker, quota, outage) keeps its status and is queued again a few minutes later.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from celery import shared_task
from django.conf import settings

from catalog.products.models import LOCALES
from catalog.products.services.generation import product_content_batch_create, product_content_generate_now
from catalog.products.services.regeneration import product_fallbacks_regenerate
from config.leases import LeaseBusyError
from config.periodic import periodic_once

logger = logging.getLogger("contentops.catalog")

REGENERATE_PERIOD_S = 3600


@shared_task(name="catalog.product_content_generate", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def product_content_generate_task(
    product_ids: list[int],
    locales: list[str] | None = None,
    only_fallback: bool = False,
    pairs: list[list] | None = None,
    deferrals: int = 0,
) -> dict:
    """Generate content now (bulk, concurrent) for products × locales (or exactly `pairs` of
    [product id, locale]); returns the summary. Deferred pairs are queued again later."""
    summary = product_content_generate_now(
        product_ids=product_ids,
        locales=locales or list(LOCALES),
        only_fallback=only_fallback,
        pairs=None if pairs is None else [(int(product_id), str(locale)) for product_id, locale in pairs],
        defer_when_unavailable=True,
    )
    if summary.deferred_pairs and deferrals < settings.PRODUCT_DEFER_RETRIES:
        product_content_generate_task.apply_async_on_commit(
            kwargs={
                "product_ids": [],
                "only_fallback": only_fallback,
                "pairs": [list(pair) for pair in summary.deferred_pairs],
                "deferrals": deferrals + 1,
            },
            countdown=settings.PRODUCT_DEFER_RETRY_S,
        )
    elif summary.deferred_pairs:
        logger.warning("product content: %d pair(s) still deferred after %d tries", summary.deferred, deferrals)
    return asdict(summary)


@shared_task(
    name="catalog.product_content_batch_create", acks_late=True, reject_on_worker_lost=True, ignore_result=False
)
def product_content_batch_create_task(category_limit: int, locales: list[str] | None = None) -> str:
    """Create a content batch of N products per category (submitting is the batches app's job)."""
    batch = product_content_batch_create(category_limit=category_limit, locales=locales or list(LOCALES))
    return batch.batch_id


@shared_task(
    name="catalog.product_fallbacks_regenerate", acks_late=True, reject_on_worker_lost=True, ignore_result=False
)
@periodic_once(period_s=REGENERATE_PERIOD_S, name="catalog.product_fallbacks_regenerate")
def product_fallbacks_regenerate_task() -> dict:
    """Hourly: put the stored fallbacks into a batch within the day's budget, once the provider is
    healthy, and queue its submission."""
    from batches.runner import batch_carry_start  # the batches app's runner imports its tasks

    try:
        report = product_fallbacks_regenerate()
    except LeaseBusyError as exc:  # a command or an admin click is at it: this hour's work is being done
        logger.info("fallback regeneration skipped: %s", exc.message)
        return {"mode": "none", "reason": exc.message}
    carried = batch_carry_start(batch=report.batch) if report.batch is not None else ""
    logger.info("fallback regeneration: %s", report.describe())
    return {
        "mode": report.mode,
        "reason": report.reason,
        "selected": report.selected,
        "left_for_later": report.left_for_later,
        "already_queued": report.already_queued,
        "estimated_cost_usd": str(report.estimated_cost_usd),
        "batch_id": report.batch.batch_id if report.batch is not None else "",
        "carried": carried,
    }
