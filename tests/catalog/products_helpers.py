"""Product-side test helpers: factories, task inputs, a tmp batch directory (no conftest: the
tests/catalog folder is shared with the job-feed suites)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from catalog.products.llm import PRODUCT_CONTENT, ProductInput
from catalog.products.models import Product
from llm.task import Provenance


def product_input(locale: str = "en-US", **overrides) -> ProductInput:
    values = {
        "product_id": 1,
        "locale": locale,
        "name": "Fender Player Stratocaster",
        "brand": "Fender",
        "category": "Guitars",
        "category_slug": "guitars",
        "description": "An alder-body electric guitar with three single-coil pickups.",
        "msrp_price": Decimal("1299.99"),
        "specs": {"Body": "Alder", "Neck": "Maple", "Pickups": "3 single-coil"},
    }
    values.update(overrides)
    return ProductInput(**values)


def provenance(*, is_fallback: bool = False, model: str = "gpt-4o-mini", call_id: int | None = None) -> Provenance:
    return Provenance(
        task=PRODUCT_CONTENT.name,
        task_version=PRODUCT_CONTENT.version,
        provider="fallback" if is_fallback else "openai",
        model="rule-based" if is_fallback else model,
        is_fallback=is_fallback,
        generated_at=timezone.now(),
        call_id=call_id,
    )


def content_for(product: Product, locale: str) -> dict:
    task_input = product_input(locale, product_id=product.pk, name=product.name)
    return PRODUCT_CONTENT.fallback_output(task_input).model_dump(mode="json")
