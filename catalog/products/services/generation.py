"""Generating product content: task inputs from products, then now/bulk (llm.run_many) or a batch.

Custom ids of batch lines are `product-{pk}-{locale}`: unique per (product, locale), readable in
the provider's dashboard, and the batches app joins results on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from catalog.products.llm import PRODUCT_CONTENT, Locale, ProductInput
from catalog.products.models import LOCALES, Product, ProductContent
from catalog.products.selectors import product_fallback_locales, products_for_generation, products_for_inputs
from catalog.products.services.content import products_mark_queued
from config.errors import DomainError
from llm.runtime import run_many

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from batches.models import Batch

ProgressCallback = Callable[[int, int], None]
# A staff click or an API call may start at most this many lines in one batch (they pass it as
# max_items); bigger runs are operator work (run_batch_processing, the benchmark).
MAX_BATCH_ITEMS = 50_000
PRODUCT_CHUNK = 1000


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
        locale=cast(Locale, locale),  # one of LOCALES (pydantic checks it)
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


def _product_chunks(
    *, product_ids: Sequence[int] | None, category_limit: int | None, include_completed: bool
) -> Iterator[list[Product]]:
    """The chosen products, a chunk at a time (a 50,000-product batch never sits in memory at once)."""
    if product_ids is not None:
        ids = sorted(set(product_ids))
        for start in range(0, len(ids), PRODUCT_CHUNK):
            yield list(products_for_inputs(product_ids=ids[start : start + PRODUCT_CHUNK]))
    elif category_limit is not None:
        yield list(products_for_generation(per_category=category_limit, include_completed=include_completed))
    else:
        raise DomainError("Give products or a per-category limit.", code="nothing_selected")


def _iter_inputs(
    *,
    chunks: Iterable[list[Product]],
    locales: Sequence[str],
    only_fallback: bool,
    pairs: Sequence[tuple[int, str]] | None = None,
) -> Iterator[ProductInput]:
    """Inputs for the products × locales, or for exactly the given (product id, locale) pairs."""
    wanted = [locale for locale in LOCALES if locale in set(locales)]
    chosen: dict[int, set[str]] = {}
    for product_id, locale in pairs or ():
        chosen.setdefault(product_id, set()).add(locale)
    for products in chunks:
        fallback_locales = product_fallback_locales(product_ids=[p.pk for p in products]) if only_fallback else {}
        for product in products:
            for locale in wanted:
                if pairs is not None and locale not in chosen.get(product.pk, ()):
                    continue
                if only_fallback and locale not in fallback_locales.get(product.pk, ()):
                    continue
                yield product_content_input(product=product, locale=locale)


@dataclass
class GenerationSummary:
    requested: int = 0
    model_written: int = 0
    fallbacks: int = 0
    # Fallback results that wrote nothing: their locale holds model content, which stays.
    kept: int = 0
    # The provider could not serve them and the caller defers (background work): left as they were.
    deferred: int = 0
    cached: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    deferred_pairs: list[tuple[int, str]] = field(default_factory=list)


def _model_written_pairs(pairs: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (product id, locale) pairs hold model content now."""
    stored: set[tuple[int, str]] = set()
    for start in range(0, len(pairs), PRODUCT_CHUNK):
        chunk = pairs[start : start + PRODUCT_CHUNK]
        stored.update(
            ProductContent.objects.filter(product_id__in={p for p, _ in chunk}, is_fallback=False).values_list(
                "product_id", "locale"
            )
        )
    return stored & set(pairs)


def product_content_generate_now(
    *,
    product_ids: Sequence[int],
    locales: Sequence[str] = LOCALES,
    only_fallback: bool = False,
    pairs: Sequence[tuple[int, str]] | None = None,
    user_id: int | None = None,
    on_progress: ProgressCallback | None = None,
    defer_when_unavailable: bool = False,
) -> GenerationSummary:
    """Generate (and apply) content for products × locales now, concurrently under the shared limits.

    `only_fallback` regenerates just the locales whose stored content is the rule-based fallback;
    `pairs` narrows the run to these (product id, locale) pairs. Background callers (no person
    waiting) pass `defer_when_unavailable`: what the provider cannot serve then is left as it was
    and counted as deferred (listed in `deferred_pairs`) instead of getting fallback text.
    """
    if pairs is not None:
        product_ids = sorted({product_id for product_id, _ in pairs})
    chunks = _product_chunks(product_ids=product_ids, category_limit=None, include_completed=True)
    inputs = list(_iter_inputs(chunks=chunks, locales=locales, only_fallback=only_fallback, pairs=pairs))
    summary = GenerationSummary(requested=len(inputs))
    fallback_pairs: list[tuple[int, str]] = []
    outcomes = run_many(
        PRODUCT_CONTENT,
        inputs,
        user_id=user_id,
        on_progress=on_progress,
        defer_when_unavailable=defer_when_unavailable,
    )
    for outcome in outcomes:
        pair = (outcome.task_input.product_id, str(outcome.task_input.locale))
        if outcome.deferred:
            summary.deferred += 1
            summary.deferred_pairs.append(pair)
        elif outcome.result is None:
            summary.failed += 1
            summary.errors.append(f"product {pair[0]} {pair[1]}: {outcome.error}")
        elif outcome.result.is_fallback:
            summary.fallbacks += 1
            fallback_pairs.append(pair)
        else:
            summary.model_written += 1
            summary.cached += int(outcome.result.cached)
    if fallback_pairs:
        # A fallback never replaces model content (services.content): count the ones that did not.
        summary.kept = len(_model_written_pairs(fallback_pairs))
        summary.fallbacks -= summary.kept
    return summary


def product_content_batch_create(
    *,
    locales: Sequence[str] = LOCALES,
    product_ids: Sequence[int] | None = None,
    category_limit: int | None = None,
    include_completed: bool = False,
    only_fallback: bool = False,
    pairs: Sequence[tuple[int, str]] | None = None,
    created_by: User | AnonymousUser | None = None,
    name: str = "",
    max_items: int | None = None,
) -> Batch:
    """A provider batch of content lines for the given products (or exactly these (product id,
    locale) `pairs`), or N per category; marks them queued.

    Inputs stream into the batch (bounded memory). DomainError when nothing needs generating or
    the batch would pass `max_items` lines (then nothing is recorded).
    """
    from batches.services import ItemSpec, batch_create  # the batches app sits above catalog

    if pairs is not None:
        product_ids = sorted({product_id for product_id, _ in pairs})
    chunks = _product_chunks(
        product_ids=product_ids, category_limit=category_limit, include_completed=include_completed
    )
    taken: set[int] = set()

    def specs() -> Iterator[ItemSpec]:
        inputs = _iter_inputs(chunks=chunks, locales=locales, only_fallback=only_fallback, pairs=pairs)
        for count, task_input in enumerate(inputs):
            if max_items is not None and count >= max_items:
                raise DomainError(f"More than {max_items} lines for one request.", code="batch_too_large")
            taken.add(task_input.product_id)
            custom_id = product_custom_id(product_id=task_input.product_id, locale=task_input.locale)
            yield ItemSpec(custom_id, task_input, ("catalog.product", task_input.product_id))

    try:
        batch = batch_create(task=PRODUCT_CONTENT, items=specs(), name=name or "product content", created_by=created_by)
    except DomainError as exc:
        if exc.code == "empty_batch":
            raise DomainError("No product needs content for these locales.", code="nothing_to_generate") from exc
        raise
    if not name:
        batch.name = f"product content: {len(taken)} product(s) × {len(set(locales) & set(LOCALES))} locale(s)"
        batch.save(update_fields=["name"])
    products_mark_queued(product_ids=taken, batch_id=batch.batch_id)
    return batch
