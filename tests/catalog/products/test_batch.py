"""Product content through the Batch API (simulator): custom ids, bulk apply, status, failures."""

import json

import pytest

from batches.models import Batch, BatchItem
from batches.services import batch_run_pipeline
from batches.services.common import part_path
from catalog.products.llm import ProductContentOutput
from catalog.products.models import LOCALES, Product, ProductContent
from catalog.products.services.content import product_content_apply
from catalog.products.services.generation import product_content_batch_create
from config.errors import DomainError
from tests.catalog.products_helpers import content_for, provenance
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_a_batch_through_the_provider_applies_model_content_for_every_locale(sim):
    products = [ProductFactory(category=CategoryFactory(name=f"Cat {c}")) for c in range(2) for _ in range(2)]

    batch = product_content_batch_create(category_limit=2, locales=LOCALES)
    assert set(Product.objects.values_list("processing_status", flat=True)) == {"queued"}
    result = batch_run_pipeline(batch=batch, poll_interval=0)

    assert (result.applied, result.failed) == (4 * len(LOCALES), 0)
    rows = ProductContent.objects.all()
    assert rows.count() == 4 * len(LOCALES)
    assert {(r.provider, r.is_fallback) for r in rows} == {("openai", False)}
    assert all(r.llm_call_id for r in rows)
    ProductContentOutput.model_validate(rows[0].content)
    assert set(Product.objects.values_list("processing_status", flat=True)) == {"completed"}
    assert set(BatchItem.objects.values_list("custom_id", flat=True)) == {
        f"product-{p.pk}-{locale}" for p in products for locale in LOCALES
    }
    # Each line carries its locale's own prompt.
    lines = [json.loads(line) for line in part_path(batch.parts.get(), "input", batch=batch).read_text().splitlines()]
    german = next(line for line in lines if line["custom_id"].endswith("-de-DE"))
    assert "Schreibe auf Deutsch" in german["body"]["messages"][0]["content"]


def test_a_batch_line_for_a_deleted_product_fails_alone(sim):
    kept, gone = ProductFactory.create_batch(2)
    gone_id = gone.pk
    batch = product_content_batch_create(product_ids=[kept.pk, gone_id], locales=["en-US"])
    gone.delete()

    result = batch_run_pipeline(batch=batch, poll_interval=0)

    assert (result.applied, result.failed) == (1, 1)
    failed = BatchItem.objects.get(status="failed")
    assert failed.custom_id == f"product-{gone_id}-en-US"
    assert "no longer exist" in failed.error_message
    assert ProductContent.objects.get().product_id == kept.pk


def test_a_batch_over_the_line_cap_is_refused_and_nothing_is_recorded():
    products = ProductFactory.create_batch(2)

    with pytest.raises(DomainError) as error:
        product_content_batch_create(product_ids=[p.pk for p in products], locales=LOCALES, max_items=10)

    assert error.value.code == "batch_too_large"
    assert not Batch.objects.exists()
    assert set(Product.objects.values_list("processing_status", flat=True)) == {"pending"}


def test_only_fallback_batches_take_just_the_fallback_locales():
    product = ProductFactory()
    for locale in LOCALES:
        product_content_apply(
            product_id=product.pk,
            locale=locale,
            content=content_for(product, locale),
            provenance=provenance(is_fallback=locale == "it-IT"),
        )

    batch = product_content_batch_create(product_ids=[product.pk], only_fallback=True)

    assert list(batch.items.values_list("custom_id", flat=True)) == [f"product-{product.pk}-it-IT"]
    assert batch.name == "product content: 1 product(s) × 7 locale(s)"
