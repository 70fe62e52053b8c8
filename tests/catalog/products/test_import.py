"""import_products: CSV/JSON/JSONL, every bad row reported with its line, nothing half-imported, upsert on slug."""

import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from catalog.products.models import Brand, Category, Product
from catalog.products.services.imports import DEMO_CATALOG, demo_catalog_load, product_rows_validate
from tests.factories import BrandFactory, ProductFactory

pytestmark = pytest.mark.django_db

GOOD_CSV = """name,slug,brand,category,description,msrp_price,specs
Fender Player Stratocaster,,Fender,Guitars,"Alder body,
three single-coils",849.99,"{""Body"": ""Alder""}"
Roland FP-30X,roland-fp-30x,Roland,Keyboards & Synths,Digital piano,749.99,
"""

BAD_CSV = """name,slug,brand,category,msrp_price,url_source
Good One,good-one,Fender,Guitars,10.00,
,no-name,Fender,Guitars,10.00,
Bad Price,bad-price,Fender,Guitars,"1,299.00",
Bad URL,bad-url,Fender,Guitars,5,javascript:alert(1)
Dup,good-one,Fender,Guitars,5,
Too Precise,too-precise,Fender,Guitars,5.555,
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_csv_imports_rows_with_brands_categories_and_json_specs(tmp_path, capsys):
    call_command("import_products", str(write(tmp_path, "products.csv", GOOD_CSV)))

    strat = Product.objects.select_related("brand", "category").get(slug="fender-player-stratocaster")
    assert strat.description == "Alder body,\nthree single-coils"
    assert strat.msrp_price == Decimal("849.99")
    assert strat.specs == {"Body": "Alder"}
    assert (strat.brand.slug, strat.category.slug) == ("fender", "guitars")
    assert Category.objects.get(slug="keyboards-synths").name == "Keyboards & Synths"
    out = capsys.readouterr().out
    assert "Imported 2 product(s)" in out
    assert "2 created, 0 updated" in out


def test_reimport_upserts_on_slug_and_keeps_generated_state(tmp_path):
    path = write(tmp_path, "products.csv", GOOD_CSV)
    call_command("import_products", str(path))
    Product.objects.filter(slug="roland-fp-30x").update(processing_status="completed")

    call_command("import_products", str(write(tmp_path, "again.csv", GOOD_CSV.replace("749.99", "699.00"))))

    roland = Product.objects.get(slug="roland-fp-30x")
    assert roland.msrp_price == Decimal("699.00")
    assert roland.processing_status == "completed"
    assert Product.objects.count() == 2


def test_bad_csv_reports_every_bad_row_with_its_line_and_imports_nothing(tmp_path, capsys):
    with pytest.raises(CommandError, match="5 problem"):
        call_command("import_products", str(write(tmp_path, "bad.csv", BAD_CSV)))

    err = capsys.readouterr().err
    assert "bad.csv: line 3: name: required" in err
    assert "line 4: msrp_price: '1,299.00' is not a number" in err
    assert "line 5: url_source: not an http(s) URL" in err
    assert "line 6: slug 'good-one' already used on line 2" in err
    assert "line 7: msrp_price: at most two decimal places" in err
    assert "line 2" not in err.replace("on line 2", "")
    assert not Product.objects.exists()
    assert not Brand.objects.exists()


def test_json_rows_are_located_by_the_line_their_object_starts_on(tmp_path, capsys):
    rows = [
        {"name": "Korg Minilogue XD", "brand": "Korg", "category": "Synths", "msrp_price": 649.99},
        {"name": "Broken", "brand": "Korg", "category": "Synths", "msrp_price": -1},
        {"name": "No brand", "category": "Synths", "colour": "red"},
    ]
    text = "[\n" + ",\n".join(json.dumps(row, indent=2) for row in rows) + "\n]\n"

    with pytest.raises(CommandError):
        call_command("import_products", str(write(tmp_path, "mixed.json", text)))

    err = capsys.readouterr().err
    starts = [number for number, line in enumerate(text.splitlines(), start=1) if line == "{"]
    assert len(starts) == 3
    assert f"line {starts[1]}: msrp_price: must be zero or more" in err
    assert f"line {starts[2]}: unknown field(s) ['colour']" in err
    assert f"line {starts[2]}: brand: required" in err
    assert f"line {starts[0]}:" not in err
    assert not Product.objects.exists()


def test_json_lines_and_json_arrays_import_the_same_products(tmp_path):
    row = {"name": "Boss DS-1", "brand": "Boss", "category": "Amps & Effects", "specs": {"Type": "Distortion"}}
    call_command("import_products", str(write(tmp_path, "one.jsonl", json.dumps(row) + "\n\n")))
    call_command("import_products", str(write(tmp_path, "one.json", json.dumps([row]))))

    product = Product.objects.get()
    assert (product.slug, product.specs) == ("boss-ds-1", {"Type": "Distortion"})


def test_malformed_json_is_reported_with_its_line(tmp_path, capsys):
    text = '[\n  {"name": "A", "brand": "B", "category": "C"},\n  {"name": "broken",\n]\n'

    with pytest.raises(CommandError):
        call_command("import_products", str(write(tmp_path, "broken.json", text)))

    assert "line 4: invalid JSON" in capsys.readouterr().err
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,brand", "line 1: missing required column(s) ['category']"),
        ("name,brand,category,colour", "line 1: unknown column(s) ['colour']"),
    ],
)
def test_bad_csv_headers_are_refused(header, message):
    _, errors = product_rows_validate(text=header + "\nA,B,C,D\n", file_format="csv")

    assert any(str(error).startswith(message) for error in errors)


def test_brand_names_differing_only_in_case_are_one_brand(tmp_path):
    BrandFactory(name="Fender", slug="fender")
    text = "name,brand,category\nA,FENDER,Guitars\nB,fender,Guitars\n"

    call_command("import_products", str(write(tmp_path, "case.csv", text)))

    assert Brand.objects.count() == 1
    assert set(Product.objects.values_list("brand__name", flat=True)) == {"Fender"}


def test_an_existing_product_is_untouched_when_the_file_is_bad(tmp_path):
    ProductFactory(slug="good-one", name="Before")

    with pytest.raises(CommandError):
        call_command("import_products", str(write(tmp_path, "bad.csv", BAD_CSV)))

    assert Product.objects.get(slug="good-one").name == "Before"


def test_demo_catalog_has_sixty_plus_instruments_in_six_categories_and_loads_idempotently():
    first = demo_catalog_load()
    second = demo_catalog_load()

    assert first.rows >= 60
    assert (first.created, second.created, second.updated) == (first.rows, 0, first.rows)
    assert Category.objects.count() == 6
    assert Product.objects.count() == first.rows
    assert min(Category.objects.annotate(n=Count("products")).values_list("n", flat=True)) >= 10
    assert not Product.objects.filter(msrp_price__isnull=True).exists()
    assert not Product.objects.filter(specs={}).exists()
    assert DEMO_CATALOG.is_file()
