"""Seed 002's product document: imported as it is (one document, an array, or JSON Lines), its
store_links and images checked with per-line errors, and given back unchanged by the API
(`?format=document`) and by `export_products`.

The fixture is the seed's example document with its placeholders made valid: the seed writes
"Source URL" / "url" where URLs go and `// ... other stores` (not JSON), so those became real
URLs and one more store; every other value and the whole shape are the seed's.
"""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.products.models import LOCALES, Product, ProductContent
from catalog.products.services.content import product_content_apply
from tests.catalog.products_helpers import content_for, provenance
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

SEED_DOCUMENT = json.loads((Path(__file__).parent / "fixtures" / "seed_002_product.json").read_text(encoding="utf-8"))


def write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def export(*args: str) -> object:
    out = StringIO()
    call_command("export_products", *args, stdout=out)
    return json.loads(out.getvalue()) if "--jsonl" not in args else [json.loads(x) for x in out.getvalue().splitlines()]


def test_the_seeds_document_round_trips_through_import_and_export(tmp_path, capsys):
    call_command("import_products", str(write(tmp_path, "product.json", json.dumps(SEED_DOCUMENT, indent=2))))

    product = Product.objects.select_related("brand", "category").get(slug="product-slug")
    assert (product.brand.name, product.category.name, str(product.msrp_price)) == (
        "Brand Name",
        "Category Name",
        "999.99",
    )
    assert product.store_links["sweetwater"]["ref_id"] == "ProductSlug"
    assert set(product.images) == {"front_view", "back_view", "official_image"}
    imported = ProductContent.objects.get(product=product)
    assert (imported.locale, imported.provider, imported.model, imported.is_fallback) == (
        "en-US",
        "import",
        "imported",
        False,
    )
    assert product.processing_status == "pending"  # six locales still to generate
    assert export("product-slug") == SEED_DOCUMENT
    assert "1 created" in capsys.readouterr().out


def test_the_api_gives_the_same_document_back(tmp_path, user_client):
    call_command("import_products", str(write(tmp_path, "product.json", json.dumps(SEED_DOCUMENT))))

    response = user_client.get("/api/v1/products/product-slug/", {"format": "document"})
    plain = user_client.get("/api/v1/products/product-slug/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == SEED_DOCUMENT
    assert plain.json()["slug"] == "product-slug"
    assert "product_input" not in plain.json()
    assert plain.json()["store_links"] == SEED_DOCUMENT["product_input"]["store_links"]
    assert user_client.get("/api/v1/products/product-slug/", {"format": "xml"}).status_code == 404


def test_a_generated_product_exports_a_document_that_imports_back_to_the_same(tmp_path):
    product = ProductFactory(slug="strat", store_links={"thomann": {"product_url": None, "ref_id": 42}})
    for locale in ("en-US", "de-DE"):
        product_content_apply(
            product_id=product.pk, locale=locale, content=content_for(product, locale), provenance=provenance()
        )
    first = export("--jsonl")

    assert [d["product_input"]["slug"] for d in first] == ["strat"]
    assert set(first[0]["ai_generated_content"]) == set(LOCALES)
    assert first[0]["ai_generated_content"]["fr-FR"] == {}
    assert first[0]["ai_generated_content"]["de-DE"]["basic_info"]["overview"]

    call_command("import_products", str(write(tmp_path, "again.jsonl", json.dumps(first[0]) + "\n")))

    assert export("--jsonl") == first
    assert Product.objects.count() == 1


def test_an_array_and_json_lines_of_documents_import_alike(tmp_path):
    second = copy.deepcopy(SEED_DOCUMENT)
    second["product_input"].update(name="Other", slug="other", msrp_price=None)
    second["customer_reviews"] = {"average_rating": 4.5, "highlights": ["warm tone"]}
    second["qa"] = [{"question": "Case included?", "answer": "Yes."}]

    call_command("import_products", str(write(tmp_path, "all.json", json.dumps([SEED_DOCUMENT, second]))))
    by_array = export()
    Product.objects.all().delete()
    lines = "\n".join(json.dumps(d) for d in (SEED_DOCUMENT, second))
    call_command("import_products", str(write(tmp_path, "all.jsonl", lines)))

    assert export() == by_array
    assert [d["product_input"]["slug"] for d in by_array] == ["other", "product-slug"]
    assert by_array[0]["customer_reviews"] == second["customer_reviews"]
    assert by_array[0]["qa"] == second["qa"]


def test_bad_store_links_and_images_are_reported_per_line_and_nothing_is_imported(tmp_path, capsys):
    bad = copy.deepcopy(SEED_DOCUMENT)
    bad["product_input"].update(slug="bad-one")
    bad["product_input"]["store_links"]["thomann"] = {"product_url": "javascript:alert(1)", "ref_id": None, "x": 1}
    bad["product_input"]["store_links"]["gear4music"] = "https://www.gear4music.com/"
    bad["images"]["side_view"] = {"source": "s", "page_url": None, "image_url": None}
    bad["images"]["front_view"]["image_url"] = "not a url"
    bad["ai_generated_content"]["xx-XX"] = {}
    bad["colour"] = "red"
    text = json.dumps(SEED_DOCUMENT) + "\n" + json.dumps(bad) + "\n"

    with pytest.raises(CommandError, match="problem"):
        call_command("import_products", str(write(tmp_path, "docs.jsonl", text)))

    err = capsys.readouterr().err
    assert "line 1:" not in err
    for message in (
        "line 2: product_input.store_links.thomann: unknown key(s) ['x']; allowed: ['product_url', 'ref_id']",
        "line 2: product_input.store_links.thomann.product_url: not an http(s) URL",
        "line 2: product_input.store_links.gear4music: must be an object with product_url and ref_id",
        "line 2: images: unknown view(s) ['side_view']; allowed: ['front_view', 'back_view', 'official_image']",
        "line 2: images.front_view.image_url: not an http(s) URL",
        "line 2: ai_generated_content: unknown locale(s) ['xx-XX']",
        "line 2: unknown field(s) ['colour']",
    ):
        assert message in err
    assert not Product.objects.exists()


def test_a_flat_row_checks_the_same_shapes_and_keeps_a_documents_extra_parts(tmp_path, capsys):
    call_command("import_products", str(write(tmp_path, "doc.json", json.dumps(SEED_DOCUMENT))))
    Product.objects.filter(slug="product-slug").update(qa={"kept": True})
    flat = {"name": "Product Name", "slug": "product-slug", "brand": "Brand Name", "category": "Category Name"}

    call_command("import_products", str(write(tmp_path, "flat.jsonl", json.dumps(flat) + "\n")))
    with pytest.raises(CommandError):
        call_command("import_products", str(write(tmp_path, "list.jsonl", json.dumps({**flat, "images": []}) + "\n")))

    product = Product.objects.get(slug="product-slug")
    assert product.qa == {"kept": True}  # a flat row leaves the document's parts alone
    assert product.store_links == {}
    assert ProductContent.objects.filter(product=product).count() == 1
    assert "line 1: images: must be an object of view" in capsys.readouterr().err


def test_one_document_with_trailing_data_is_refused(tmp_path, capsys):
    text = json.dumps(SEED_DOCUMENT) + "\n{}\n"

    with pytest.raises(CommandError):
        call_command("import_products", str(write(tmp_path, "two.json", text)))

    assert "unexpected data after the object" in capsys.readouterr().err


def test_export_refuses_unknown_slugs_and_writes_files(tmp_path):
    ProductFactory(slug="a")
    with pytest.raises(CommandError, match="nope"):
        call_command("export_products", "a", "nope", stdout=StringIO())

    call_command("export_products", "--output", str(tmp_path / "out.json"), stderr=StringIO())

    assert [d["product_input"]["slug"] for d in json.loads((tmp_path / "out.json").read_text())] == ["a"]
