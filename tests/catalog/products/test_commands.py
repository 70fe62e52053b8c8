"""Operator commands (run_batch_processing, test_ai_generation), the Celery tasks and the demo step."""

import json

import pytest
from django.core.management import CommandError, call_command

from batches.models import Batch
from catalog import demo as catalog_demo
from catalog.products.llm import ProductContentOutput
from catalog.products.models import LOCALES, Product, ProductContent
from catalog.products.tasks import product_content_generate_task
from config.demo import DemoReport
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def small_catalog(categories: int = 2, per_category: int = 2) -> list[Product]:
    return [
        ProductFactory(category=CategoryFactory(name=f"Cat {c}"))
        for c in range(categories)
        for _ in range(per_category)
    ]


def test_pipeline_creates_submits_monitors_and_applies_a_batch(capsys):
    small_catalog(categories=2, per_category=3)

    call_command("run_batch_processing", "--action", "pipeline", "--category-limit", "2", "--poll-interval", "0")

    out = capsys.readouterr().out
    batch = Batch.objects.get()
    assert batch.status == "ingested"
    assert batch.items_applied == 4 * len(LOCALES)
    assert ProductContent.objects.count() == 4 * len(LOCALES)
    assert Product.objects.filter(processing_status="fallback").count() == 4  # offline: rule-based
    assert Product.objects.filter(processing_status="pending").count() == 2  # not selected
    assert "Pipeline finished." in out
    assert f"applied {4 * len(LOCALES)}, failed 0" in out
    assert "Cat 0" in out


def test_pipeline_with_nothing_to_do_is_a_command_error():
    with pytest.raises(CommandError, match="No product needs content"):
        call_command("run_batch_processing", "--action", "pipeline", "--poll-interval", "0")


def test_test_list_and_status_actions(capsys):
    small_catalog()

    call_command("run_batch_processing", "--action", "test")
    call_command("run_batch_processing", "--action", "list")
    call_command("run_batch_processing", "--action", "status")

    out = capsys.readouterr().out
    batch = Batch.objects.get()
    assert batch.item_count == 2  # one product per category, en-US
    assert f"Created test batch {batch.batch_id}" in out
    assert batch.batch_id in out.split("Created test batch")[1]  # listed
    assert "queued" in out


def test_ai_generation_saves_schema_checked_json_per_locale(settings, tmp_path, capsys, sim):
    settings.VAR_DIR = tmp_path
    product = ProductFactory()

    call_command("test_ai_generation", "--single")

    files = sorted((tmp_path / "test_results").glob("*/*.json"))
    assert [f.name for f in files] == sorted(f"{product.slug}.{locale}.json" for locale in LOCALES)
    saved = json.loads(files[0].read_text())
    ProductContentOutput.model_validate(saved["output"])
    assert saved["provenance"]["is_fallback"] is False
    out = capsys.readouterr().out
    assert "success      7  (100.0%)" in out
    assert not ProductContent.objects.exists()  # a dry run unless --apply


def test_ai_generation_counts_fallbacks_when_offline_and_can_apply(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    small_catalog(categories=1, per_category=6)

    call_command("test_ai_generation", "--locales", "de-DE,it-IT", "--apply")

    out = capsys.readouterr().out
    assert "fallback    10  (100.0%)" in out  # five products per category × two locales
    assert ProductContent.objects.filter(is_fallback=True).count() == 10


def test_generate_task_returns_the_summary(sim):
    product = ProductFactory()

    result = product_content_generate_task.delay([product.pk], ["en-GB"]).get()

    assert result["requested"] == result["model_written"] == 1
    assert ProductContent.objects.get().locale == "en-GB"


def test_demo_step_loads_the_catalog_and_generates_through_the_batch_pipeline(monkeypatch):
    called = []
    monkeypatch.setattr(
        catalog_demo.jobs_demo, "run", lambda report: called.append(("jobs", Product.objects.count()))
    )
    monkeypatch.setattr(catalog_demo.datasets_demo, "run", lambda report: None)  # its own batch: tested there
    report = DemoReport()

    catalog_demo.run(report=report)

    products = Product.objects.count()
    assert products >= 60
    batch = Batch.objects.get()
    assert (batch.status, batch.items_applied) == ("ingested", products * len(LOCALES))
    assert ProductContent.objects.count() == products * len(LOCALES)
    assert any(f"{products * len(LOCALES)} contents applied" in line for line in report.done)
    assert any("/admin/catalog/product/" in line for line in report.look)
    assert called == [("jobs", products)]  # the jobs step runs last, after the products are in
