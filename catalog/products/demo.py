"""Demo step for products: the bundled instrument catalog, its content generated through the batch
pipeline (offline: the batches app answers every line locally and ingests it)."""

from __future__ import annotations

from config.demo import DemoReport

DEMO_TIMEOUT_S = 120.0


def run(*, report: DemoReport) -> None:
    """Load the bundled instruments and generate their content for every locale through a batch."""
    from batches.services import batch_run_pipeline, batch_submit
    from catalog.products.models import LOCALES, Category, Product, ProductContent
    from catalog.products.services.generation import product_content_batch_create
    from catalog.products.services.imports import demo_catalog_load
    from llm.providers import provider_config

    loaded = demo_catalog_load()
    categories = Category.objects.filter(products__slug__in=loaded.slugs).distinct().count()
    report.done.append(
        f"catalog: loaded {loaded.rows} demo instruments ({loaded.created} new, {loaded.updated} updated) "
        f"in {categories} categories"
    )
    product_ids = list(Product.objects.filter(slug__in=loaded.slugs).values_list("pk", flat=True))
    batch = product_content_batch_create(product_ids=product_ids, locales=LOCALES, name="demo: product content")
    if not provider_config().is_offline:
        # A real Batch API job takes minutes to hours: submit it and let the scheduler finish it.
        batch_submit(batch=batch)
        report.done.append(
            f"catalog: submitted batch {batch.batch_id} ({batch.item_count} lines) to the provider; "
            "`python manage.py run_batch_processing --action list` shows its progress"
        )
    else:
        result = batch_run_pipeline(batch=batch, poll_interval=1.0, timeout_s=DEMO_TIMEOUT_S)
        contents = ProductContent.objects.filter(product_id__in=product_ids)
        fallbacks = contents.filter(is_fallback=True).count()
        report.done.append(
            f"catalog: generated content through batch {result.last.batch_id} (offline provider, run locally): "
            f"{len(product_ids)} products × {len(LOCALES)} locales, {result.applied} contents applied, "
            f"{result.failed} failed, {fallbacks} rule-based fallback(s) stored"
        )
    report.look += [
        "products and their content per locale: http://127.0.0.1:8000/admin/catalog/product/ "
        "(actions: generate now, generate via Batch API, regenerate fallback content)",
        "product API: /api/v1/products/?category=guitars and /api/v1/products/<slug>/?locale=de-DE",
        "products by status: python manage.py run_batch_processing --action status",
    ]
