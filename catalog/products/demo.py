"""Demo step for products: the bundled instrument catalog, its content generated through the batch
pipeline (offline: the batches app answers every line locally and ingests it)."""

from __future__ import annotations

from config.demo import DemoReport

DEMO_TIMEOUT_S = 120.0
# A real provider's Batch API can take minutes to hours: the demo follows it this long, then leaves the
# rest to the scheduler (or `run_batch_processing --action monitor`).
DEMO_PROVIDER_TIMEOUT_S = 15 * 60.0


def run(*, report: DemoReport) -> None:
    """Load the bundled instruments and generate their content for every locale through a batch."""
    from catalog.products.models import LOCALES, Category, Product, ProductContent
    from catalog.products.services.imports import demo_catalog_load

    loaded = demo_catalog_load()
    categories = Category.objects.filter(products__slug__in=loaded.slugs).distinct().count()
    report.done.append(
        f"catalog: loaded {loaded.rows} demo instruments ({loaded.created} new, {loaded.updated} updated) "
        f"in {categories} categories"
    )
    product_ids = list(Product.objects.filter(slug__in=loaded.slugs).values_list("pk", flat=True))
    contents = ProductContent.objects.filter(product_id__in=product_ids)
    if contents.count() >= len(product_ids) * len(LOCALES):
        # A rerun: every locale of every demo product is there already; no new batch, no ledger rows.
        report.done.append(
            f"catalog: content of all {len(product_ids)} products × {len(LOCALES)} locales was already generated "
            f"({contents.filter(is_fallback=True).count()} rule-based); nothing to do"
        )
    else:
        _generate(report=report, product_ids=product_ids)
    report.look += [
        "products and their content per locale: http://127.0.0.1:8000/admin/catalog/product/ "
        "(actions: generate now, generate via Batch API, regenerate fallback content)",
        "product API: /api/v1/products/?category=guitars and /api/v1/products/<slug>/?locale=de-DE",
        "products by status: python manage.py run_batch_processing --action status",
    ]


def _generate(*, report: DemoReport, product_ids: list[int]) -> None:
    """One batch for every locale of every demo product, followed to the end (offline: answered locally)."""
    from batches.services import BatchPipelineTimeout, batch_run_pipeline
    from catalog.products.models import LOCALES, ProductContent
    from catalog.products.services.generation import product_content_batch_create
    from llm.providers import provider_config

    batch = product_content_batch_create(product_ids=product_ids, locales=LOCALES, name="demo: product content")
    offline = provider_config().is_offline
    where = "offline provider, run locally" if offline else f"{batch.provider} Batch API"
    try:
        result = batch_run_pipeline(
            batch=batch,
            poll_interval=1.0 if offline else 5.0,
            timeout_s=DEMO_TIMEOUT_S if offline else DEMO_PROVIDER_TIMEOUT_S,
        )
    except BatchPipelineTimeout as exc:
        report.done.append(
            f"catalog: {exc.message} The scheduler (or `python manage.py run_batch_processing --action monitor`) "
            "ingests it when the provider finishes."
        )
        return
    if result.awaiting_approval is not None:
        waiting = result.awaiting_approval
        report.done.append(
            f"catalog: batch {waiting.batch_id} ({waiting.item_count} lines, "
            f"estimated ${waiting.estimated_cost_usd:.2f}) waits for approval (above BATCH_APPROVAL_USD): "
            "admin → Batches → “Approve the estimated cost and submit”"
        )
        return
    fallbacks = ProductContent.objects.filter(product_id__in=product_ids, is_fallback=True).count()
    report.done.append(
        f"catalog: generated content through batch {result.last.batch_id} ({where}): "
        f"{len(product_ids)} products × {len(LOCALES)} locales, {result.applied} contents applied, "
        f"{result.failed} failed, {fallbacks} rule-based fallback(s) stored; cost ${result.last.cost_usd:.4f}"
    )
