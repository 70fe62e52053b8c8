"""Generating product content: task inputs from products, then now/bulk (llm.run_many) or a batch.

Custom ids of batch lines are `product-{pk}-{locale}`: unique per (product, locale), readable in
the provider's dashboard, and the batches app joins results on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catalog.llm import PRODUCT_CONTENT, ProductInput
from catalog.models import LOCALES, Product
from catalog.selectors import product_fallback_locales, products_for_generation, products_for_inputs
from catalog.services.content import products_mark_queued
from config.errors import DomainError
from llm.runtime import run_many

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from batches.models import Batch

ProgressCallback = Callable[[int, int], None]
# A staff click or an API call may start at most this many lines in one batch; bigger runs are
# operator work (run_batch_processing / the batches app directly).
MAX_BATCH_ITEMS = 50_000


def _spec_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def product_content_input(*, product: Product, locale: str) -> ProductInput:
    """The task input for one (product, locale); the product needs brand and category loaded."""
    specs = product.specs if isinstance(product.specs, dict) else {}
    return ProductInput(
        product_id=product.pk,
        locale=locale,
        name=product.name,
        brand=product.brand.name,
        category=product.category.name,
        category_slug=product.category.slug,
        description=product.description,
        msrp_price=product.msrp_price,
        specs={str(key): _spec_text(value) for key, value in specs.items()},
    )


def product_custom_id(*, product_id: int, locale: str) -> str:
    return f"product-{product_id}-{locale}"


def _inputs(*, products: Iterable[Product], locales: Sequence[str], only_fallback: bool) -> list[ProductInput]:
    products = list(products)
    wanted = [locale for locale in LOCALES if locale in set(locales)]
    fallback_locales = product_fallback_locales(product_ids=[p.pk for p in products]) if only_fallback else {}
    inputs = []
    for product in products:
        for locale in wanted:
            if only_fallback and locale not in fallback_locales.get(product.pk, ()):
                continue
            inputs.append(product_content_input(product=product, locale=locale))
    return inputs


@dataclass
class GenerationSummary:
    requested: int = 0
    model_written: int = 0
    fallbacks: int = 0
    cached: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def product_content_generate_now(
    *,
    product_ids: Sequence[int],
    locales: Sequence[str] = LOCALES,
    only_fallback: bool = False,
    user_id: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> GenerationSummary:
    """Generate (and apply) content for products × locales now, concurrently under the shared limits.

    `only_fallback` regenerates just the locales whose stored content is the rule-based fallback.
    """
    inputs = _inputs(
        products=products_for_inputs(product_ids=product_ids), locales=locales, only_fallback=only_fallback
    )
    summary = GenerationSummary(requested=len(inputs))
    for outcome in run_many(PRODUCT_CONTENT, inputs, user_id=user_id, on_progress=on_progress):
        if outcome.result is None:
            summary.failed += 1
            summary.errors.append(
                f"product {outcome.task_input.product_id} {outcome.task_input.locale}: {outcome.error}"
            )
        elif outcome.result.is_fallback:
            summary.fallbacks += 1
        else:
            summary.model_written += 1
            summary.cached += int(outcome.result.cached)
    return summary


def product_content_batch_create(
    *,
    locales: Sequence[str] = LOCALES,
    product_ids: Sequence[int] | None = None,
    category_limit: int | None = None,
    include_completed: bool = False,
    only_fallback: bool = False,
    created_by: AbstractBaseUser | None = None,
    name: str = "",
) -> Batch:
    """A provider batch of content lines for the given products, or N per category; marks them queued.

    DomainError when nothing needs generating or the batch would exceed MAX_BATCH_ITEMS lines.
    """
    from batches.services.create import ItemSpec, batch_create  # the batches app sits above catalog

    if product_ids is not None:
        products = list(products_for_inputs(product_ids=product_ids))
    elif category_limit is not None:
        products = list(products_for_generation(per_category=category_limit, include_completed=include_completed))
    else:
        raise DomainError("Give products or a per-category limit.", code="nothing_selected")
    inputs = _inputs(products=products, locales=locales, only_fallback=only_fallback)
    if not inputs:
        raise DomainError("No product needs content for these locales.", code="nothing_to_generate")
    if len(inputs) > MAX_BATCH_ITEMS:
        raise DomainError(
            f"{len(inputs)} lines is more than one request may start ({MAX_BATCH_ITEMS}).", code="batch_too_large"
        )
    label = name or f"product content: {len({i.product_id for i in inputs})} product(s) × {len(locales)} locale(s)"
    batch = batch_create(
        task=PRODUCT_CONTENT,
        items=(
            ItemSpec(product_custom_id(product_id=i.product_id, locale=i.locale), i, ("catalog.product", i.product_id))
            for i in inputs
        ),
        name=label,
        created_by=created_by,
    )
    products_mark_queued(product_ids={i.product_id for i in inputs}, batch_id=batch.batch_id)
    return batch
