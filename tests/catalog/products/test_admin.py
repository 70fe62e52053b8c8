"""Product admin: changelist in constant queries, content rendered escaped with provenance, actions."""

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from batches.models import Batch
from catalog.products.models import LOCALES, Product, ProductContent
from catalog.products.services.content import product_content_apply
from tests.catalog.products_helpers import content_for, provenance
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_product_changelist")


def chat_calls(sim):
    return [c for c in sim.calls if c.endpoint == "chat.completions"]


def run_action(client, action: str, products) -> object:
    return client.post(CHANGELIST, {"action": action, "_selected_action": [p.pk for p in products]}, follow=True)


def test_changelist_uses_the_same_queries_for_3_and_30_products(admin_client):
    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(CHANGELIST, {"processing_status__exact": "pending"})
        assert response.status_code == 200
        return len(captured)

    for product in ProductFactory.create_batch(3):
        product_content_apply(
            product_id=product.pk, locale="en-US", content=content_for(product, "en-US"), provenance=provenance()
        )
    few = queries_for_listing()
    ProductFactory.create_batch(27)

    assert queries_for_listing() == few


def test_changelist_shows_locale_progress_and_filters(admin_client):
    product = ProductFactory(name="Strat")
    for locale in ("en-US", "de-DE"):
        product_content_apply(
            product_id=product.pk,
            locale=locale,
            content=content_for(product, locale),
            provenance=provenance(is_fallback=locale == "de-DE"),
        )

    page = admin_client.get(CHANGELIST, {"q": "Strat"}).content.decode()

    assert f"2/{len(LOCALES)} (1)" in page
    assert "By processing status" in page


def test_change_page_shows_each_locale_with_provenance_and_escapes_model_output(admin_client):
    product = ProductFactory()
    content = content_for(product, "fr-FR")
    content["basic_info"]["overview"] = "<script>alert('x')</script> Bon son"
    content["qa"][0]["question"] = '<img src=x onerror="alert(1)">'
    product_content_apply(product_id=product.pk, locale="fr-FR", content=content, provenance=provenance(call_id=9))

    page = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()

    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Bon son" in page
    assert "<img src=x" not in page
    assert "fr-FR" in page
    assert "gpt-4o-mini" in page
    assert "ledger #9" in page
    assert "technical analysis" in page


def test_generate_now_runs_every_locale_through_the_model(admin_client, sim):
    products = ProductFactory.create_batch(2)

    response = run_action(admin_client, "generate_now", products)

    assert len(chat_calls(sim)) == 2 * len(LOCALES)
    assert ProductContent.objects.filter(is_fallback=False).count() == 2 * len(LOCALES)
    assert set(Product.objects.values_list("processing_status", flat=True)) == {"completed"}
    assert "14 written by the model, 0 rule-based fallback(s), 0 failed" in response.content.decode()
    prompts = {c.json["messages"][0]["content"] for c in chat_calls(sim)}
    assert len(prompts) == len(LOCALES)  # one system prompt per language


def _with_fallbacks_in(*fallback_locales: str) -> Product:
    """A product with model content ("old-model") in every locale but these, which hold fallbacks."""
    product = ProductFactory()
    for locale in LOCALES:
        product_content_apply(
            product_id=product.pk,
            locale=locale,
            content=content_for(product, locale),
            provenance=provenance(is_fallback=locale in fallback_locales, model="old-model"),
        )
    return product


def test_regenerate_fallback_batches_only_the_fallback_locales(admin_client, sim):
    product = _with_fallbacks_in("de-DE", "pt-PT")

    response = run_action(admin_client, "regenerate_fallback", [product])

    batch = Batch.objects.get()  # the cheapest mode: one batch, carried through in the request
    assert batch.item_count == 2
    assert chat_calls(sim) == []
    assert not ProductContent.objects.filter(is_fallback=True).exists()
    assert ProductContent.objects.filter(model="old-model").count() == len(LOCALES) - 2  # untouched
    assert Product.objects.get().processing_status == "completed"
    page = response.content.decode()
    assert "2 of 2 fallback locale(s) went into a batch" in page
    assert batch.batch_id in page


def test_regenerate_fallback_now_calls_the_model_for_the_fallback_locales_only(admin_client, sim):
    product = _with_fallbacks_in("de-DE", "pt-PT")

    response = run_action(admin_client, "regenerate_fallback_now", [product])

    sent = [c.json["messages"][0]["content"] for c in chat_calls(sim)]
    assert len(sent) == 2
    assert any("Schreibe auf Deutsch" in s for s in sent)
    assert not ProductContent.objects.filter(is_fallback=True).exists()
    assert Product.objects.get().processing_status == "completed"
    assert "2 written by the model, 0 deferred" in response.content.decode()


def test_regenerate_fallback_with_nothing_to_redo_says_so(admin_client, sim):
    response = run_action(admin_client, "regenerate_fallback", [ProductFactory()])

    assert "No fallback content to regenerate" in response.content.decode()
    assert chat_calls(sim) == []
    assert not Batch.objects.exists()


def test_generate_now_during_a_quota_outage_keeps_model_content_and_says_so(admin_client, sim):
    product = ProductFactory()
    for locale in LOCALES:
        product_content_apply(
            product_id=product.pk, locale=locale, content=content_for(product, locale), provenance=provenance()
        )
    fresh = ProductFactory()
    sim.config = dataclasses.replace(sim.config, insufficient_quota=1.0)  # and it opens the breaker

    response = run_action(admin_client, "generate_now", [product, fresh])

    assert not ProductContent.objects.filter(product=product, is_fallback=True).exists()
    assert Product.objects.get(pk=product.pk).processing_status == "completed"
    # A person is waiting: the empty locales of the new product get the flagged fallback.
    assert ProductContent.objects.filter(product=fresh, is_fallback=True).count() == len(LOCALES)
    assert "7 rule-based fallback(s), 7 kept their model content" in response.content.decode()


def test_generate_via_batch_creates_and_submits_a_batch_and_links_to_it(admin_client):
    products = ProductFactory.create_batch(2)

    response = run_action(admin_client, "generate_via_batch", products)

    batch = Batch.objects.get()
    assert batch.item_count == 2 * len(LOCALES)
    assert batch.status not in ("created", "built")  # submitted (offline: answered locally)
    page = response.content.decode()
    assert f'href="{reverse("admin:batches_batch_change", args=[batch.pk])}"' in page
    assert set(Product.objects.values_list("batch_id", flat=True)) == {batch.batch_id}


def test_generate_now_refuses_too_many_products(admin_client, sim, monkeypatch):
    monkeypatch.setattr("catalog.products.admin.GENERATE_NOW_MAX_PRODUCTS", 1)

    response = run_action(admin_client, "generate_now", ProductFactory.create_batch(2))

    assert "Generate via Batch API" in response.content.decode()
    assert chat_calls(sim) == []


def test_brand_and_category_admins_list_product_counts(admin_client):
    ProductFactory.create_batch(2)

    assert admin_client.get(reverse("admin:catalog_brand_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:catalog_category_changelist")).status_code == 200
