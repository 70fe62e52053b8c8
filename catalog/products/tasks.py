"""Celery tasks for product content. Arguments are ids and locale codes only; the work is the service's.

Applying content is an upsert on (product, locale), so a task redelivered after a worker died
(acks_late + reject_on_worker_lost) writes the same rows again and nothing twice.
"""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from catalog.products.models import LOCALES
from catalog.products.services.generation import product_content_batch_create, product_content_generate_now


@shared_task(name="catalog.product_content_generate", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def product_content_generate_task(
    product_ids: list[int], locales: list[str] | None = None, only_fallback: bool = False
) -> dict:
    """Generate content now (bulk, concurrent) for products × locales; returns the summary."""
    summary = product_content_generate_now(
        product_ids=product_ids, locales=locales or list(LOCALES), only_fallback=only_fallback
    )
    return asdict(summary)


@shared_task(
    name="catalog.product_content_batch_create", acks_late=True, reject_on_worker_lost=True, ignore_result=False
)
def product_content_batch_create_task(category_limit: int, locales: list[str] | None = None) -> str:
    """Create a content batch of N products per category (submitting is the batches app's job)."""
    batch = product_content_batch_create(category_limit=category_limit, locales=locales or list(LOCALES))
    return batch.batch_id
