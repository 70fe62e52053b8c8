"""Product API (filters, pagination, locale, errors, constant queries) and the product batch endpoints."""

import pytest
from django.contrib.auth import get_user_model

from batches.models import Batch, BatchItem
from catalog.products.models import LOCALES, Product
from catalog.products.services.content import product_content_apply
from config.services import api_key_create
from tests.catalog.products_helpers import content_for, provenance
from tests.factories import BrandFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/products/"


def detail_url(slug: str) -> str:
    return f"/api/v1/products/{slug}/"


def test_list_requires_authentication(api_client):
    response = api_client.get(LIST_URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_list_filters_by_category_brand_and_status(user_client):
    guitars, basses = CategoryFactory(name="Guitars"), CategoryFactory(name="Basses")
    fender, ibanez = BrandFactory(name="Fender"), BrandFactory(name="Ibanez")
    strat = ProductFactory(name="Strat", category=guitars, brand=fender)
    ProductFactory(name="RG", category=guitars, brand=ibanez, processing_status="failed")
    ProductFactory(name="P-Bass", category=basses, brand=fender)

    def names(**params):
        response = user_client.get(LIST_URL, params)
        assert response.status_code == 200
        return [row["name"] for row in response.json()["results"]]

    assert names(category="guitars") == ["RG", "Strat"]
    assert names(brand="fender") == ["P-Bass", "Strat"]
    assert names(category="guitars", brand="fender") == ["Strat"]
    assert names(processing_status="failed") == ["RG"]
    assert names(category="drums") == []
    row = user_client.get(LIST_URL, {"brand": "fender", "category": "guitars"}).json()["results"][0]
    assert row["brand"] == {"name": "Fender", "slug": "fender"}
    assert row["slug"] == strat.slug


def test_unknown_status_filter_is_a_400(user_client):
    response = user_client.get(LIST_URL, {"processing_status": "bogus"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_list_is_paginated(user_client):
    ProductFactory.create_batch(3)

    first = user_client.get(LIST_URL, {"page_size": 2}).json()
    second = user_client.get(LIST_URL, {"page_size": 2, "page": 2}).json()

    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"]
    assert len(second["results"]) == 1


@pytest.mark.parametrize("count", [3, 30])
def test_list_runs_the_same_three_queries_for_3_or_30_products(user_client, django_assert_num_queries, count):
    for product in ProductFactory.create_batch(count):
        product_content_apply(
            product_id=product.pk, locale="de-DE", content=content_for(product, "de-DE"), provenance=provenance()
        )

    with django_assert_num_queries(3):  # COUNT, the page with brand+category, the content locales
        response = user_client.get(LIST_URL)

    assert len(response.json()["results"]) == count
    assert response.json()["results"][0]["content_locales"] == [{"locale": "de-DE", "is_fallback": False}]


def test_detail_returns_the_locales_content_with_provenance(user_client):
    product = ProductFactory(slug="strat")
    product_content_apply(
        product_id=product.pk, locale="de-DE", content=content_for(product, "de-DE"), provenance=provenance(call_id=5)
    )

    body = user_client.get(detail_url("strat"), {"locale": "de-DE"}).json()

    assert body["locale"] == "de-DE"
    assert body["content"]["locale"] == "de-DE"
    assert body["content"]["content"] == content_for(product, "de-DE")
    provenance_body = body["content"]["provenance"]
    assert (provenance_body["model"], provenance_body["is_fallback"], provenance_body["llm_call_id"]) == (
        "gpt-4o-mini",
        False,
        5,
    )
    assert body["specs"] == {"Body": "Mahogany", "Frets": 22}


def test_detail_without_content_in_that_locale_has_null_content(user_client):
    ProductFactory(slug="strat")

    body = user_client.get(detail_url("strat")).json()

    assert (body["locale"], body["content"]) == ("en-US", None)


def test_detail_refuses_an_unknown_locale_with_400(user_client):
    ProductFactory(slug="strat")

    response = user_client.get(detail_url("strat"), {"locale": "ja-JP"})

    assert response.status_code == 400
    assert "locale" in response.json()["error"]["detail"]


def test_detail_of_an_unknown_slug_is_404(user_client):
    response = user_client.get(detail_url("nope"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- product-facing batch endpoints ---------------------------------------------------------------


def catalog_of(per_category: int = 4, categories: int = 2) -> list[Product]:
    return [
        ProductFactory(category=CategoryFactory(name=f"Cat {c}"))
        for c in range(categories)
        for _ in range(per_category)
    ]


@pytest.mark.parametrize("path", ["/api/v1/batch/create", "/api/v1/batch/create-test", "/api/v1/batch/products/status"])
def test_batch_endpoints_are_for_staff_and_service_keys_only(user_client, path):
    response = user_client.post(path) if "status" not in path else user_client.get(path)

    assert response.status_code == 403


def test_create_takes_n_products_per_category_times_locales(staff_client):
    catalog_of(per_category=4, categories=2)

    response = staff_client.post("/api/v1/batch/create?category_limit=3&locales=de-DE,fr-FR")

    assert response.status_code == 201
    body = response.json()
    assert (body["item_count"], body["product_count"], body["locales"]) == (12, 6, ["fr-FR", "de-DE"])
    batch = Batch.objects.get(batch_id=body["batch_id"])
    assert batch.task_name == "product_content"
    ids = set(BatchItem.objects.filter(batch=batch).values_list("custom_id", flat=True))
    queued = Product.objects.filter(processing_status="queued", batch_id=batch.batch_id)
    assert ids == {f"product-{p.pk}-{loc}" for p in queued for loc in ("de-DE", "fr-FR")}
    assert queued.count() == 6


def test_create_defaults_to_all_locales_and_skips_products_already_done(staff_client):
    done, *_ = catalog_of(per_category=2, categories=1)
    Product.objects.filter(pk=done.pk).update(processing_status="completed")

    body = staff_client.post("/api/v1/batch/create?category_limit=3").json()

    assert (body["product_count"], body["item_count"], body["locales"]) == (1, len(LOCALES), list(LOCALES))


def test_create_with_nothing_to_generate_or_bad_locale_is_400(staff_client):
    assert staff_client.post("/api/v1/batch/create").json()["error"]["code"] == "nothing_to_generate"
    catalog_of()
    response = staff_client.post("/api/v1/batch/create?locales=xx-XX")
    assert response.status_code == 400
    assert "locales" in response.json()["error"]["detail"]


def test_create_test_makes_one_en_us_line_per_category_with_a_service_key(api_client):
    catalog_of(per_category=3, categories=3)
    service_user = get_user_model().objects.create_user("svc", is_staff=True)
    _, raw_key = api_key_create(name="client", user=service_user, scopes=["read", "write", "staff"])

    response = api_client.post("/api/v1/batch/create-test", HTTP_X_API_KEY=raw_key)

    assert response.status_code == 201
    assert (response.json()["item_count"], response.json()["locales"]) == (3, ["en-US"])


def test_products_status_counts_per_status_and_category(staff_client):
    products = catalog_of(per_category=2, categories=2)
    Product.objects.filter(pk=products[0].pk).update(processing_status="failed")

    body = staff_client.get("/api/v1/batch/products/status").json()

    assert body["total"] == 4
    assert body["by_status"]["failed"] == 1
    assert body["by_status"]["pending"] == 3
    assert [(c["slug"], c["total"], c["by_status"]["failed"]) for c in body["categories"]] == [
        ("cat-0", 2, 1),
        ("cat-1", 2, 0),
    ]
