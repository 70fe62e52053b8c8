"""Catalog-level services that span its rooms: which batch `POST /api/v1/batch/create` makes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from catalog.leads.funnel import TASK_TYPES as LEAD_TASK_TYPES
from catalog.leads.funnel import lead_batch_create
from catalog.products.services.generation import MAX_BATCH_ITEMS, product_content_batch_create
from config.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from batches.models import Batch

PRODUCT_CONTENT = "product_content"
BATCH_TASK_TYPES = (PRODUCT_CONTENT, *LEAD_TASK_TYPES)


def catalog_batch_create(
    *,
    task_type: str = PRODUCT_CONTENT,
    created_by: User | AnonymousUser | None = None,
    category_limit: int | None = None,
    locales: Sequence[str] = (),
    include_completed: bool = False,
    job_ids: Sequence[int] | None = None,
    **lead_filter: Any,
) -> Batch:
    """A batch of `task_type`: product content (N per category × locales) or a lead task (jobs or a filter)."""
    if task_type == PRODUCT_CONTENT:
        return product_content_batch_create(
            category_limit=category_limit,
            locales=locales,
            include_completed=include_completed,
            created_by=created_by,
            max_items=MAX_BATCH_ITEMS,
        )
    if task_type in LEAD_TASK_TYPES:
        return lead_batch_create(task_type=task_type, job_ids=job_ids, created_by=created_by, **lead_filter)
    raise DomainError(
        f"Unknown task_type {task_type!r}; one of {', '.join(BATCH_TASK_TYPES)}.", code="invalid_task_type"
    )
