"""Importing products from CSV or JSON files, all or nothing, and the bundled demo catalog.

Every row is validated before anything is written; a file with any bad row imports nothing and
every problem comes back with its line number. A good file is upserted on the product slug in
one transaction (brands and categories are created as needed).

A JSON row is either flat (the CSV's columns) or seed 002's product document, as it is
(`product_input`, `images`, `ai_generated_content`, `customer_reviews`, `content_metadata`, `qa`;
see catalog/products/document.py); a JSON file holds one document, an array of them, or one per
line (JSON Lines). A document's locales become ProductContent rows (provider `import`), so
`GET /api/v1/products/{slug}/?format=document` and `export_products` give the same document back.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog.products.document import (
    IMPORT_MODEL,
    IMPORT_PROVIDER,
    document_split,
    images_problems,
    is_document,
    store_links_problems,
)
from catalog.products.models import Brand, Category, Product
from catalog.products.services.content import product_contents_apply_many
from config.errors import DomainError
from config.text import data_clean
from llm.task import Provenance

IMPORT_MAX_BYTES = 50 * 1024 * 1024
DEMO_CATALOG = Path(__file__).resolve().parent.parent / "demo_data" / "instruments.json"
COLUMNS = (
    "name",
    "slug",
    "brand",
    "category",
    "description",
    "msrp_price",
    "url_source",
    "image_uri",
    "specs",
    "store_links",
    "images",
)
REQUIRED = ("name", "brand", "category")
JSON_COLUMNS = ("specs", "store_links", "images")
MAX_LENGTHS = {"name": 255, "slug": 255, "brand": 120, "category": 120, "url_source": 500, "image_uri": 500}
DESCRIPTION_MAX = 20_000
MSRP_MAX = Decimal("99999999.99")  # max_digits=10, decimal_places=2
UPDATE_FIELDS = [
    "name",
    "brand",
    "category",
    "description",
    "msrp_price",
    "url_source",
    "image_uri",
    "specs",
    "store_links",
    "images",
    "updated_at",
]
DOCUMENT_UPDATE_FIELDS = [*UPDATE_FIELDS, "customer_reviews", "content_metadata", "qa"]
CONTENT_TASK = "product_content"  # the task whose rows imported content sits beside
_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ProductImportError(DomainError):
    """The file was refused; `errors` lists every bad row (nothing was imported)."""

    code = "import_invalid"

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__(
            f"{len(errors)} problem(s) found; nothing was imported.",
            detail=[{"line": e.line, "message": e.message} for e in errors[:1000]],
        )


@dataclass(frozen=True)
class ProductRow:
    """A validated row, ready to upsert."""

    line: int
    name: str
    slug: str
    brand: str
    category: str
    description: str
    msrp_price: Decimal | None
    url_source: str
    image_uri: str
    specs: dict[str, Any]
    store_links: dict[str, Any]
    images: dict[str, Any]
    # Seed 002's document only: its other parts, and the content of each locale it carries.
    document: bool = False
    customer_reviews: dict | list = field(default_factory=dict)
    content_metadata: dict | list = field(default_factory=dict)
    qa: dict | list = field(default_factory=dict)
    contents: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    brands_created: int = 0
    categories_created: int = 0
    slugs: list[str] = field(default_factory=list)  # every imported row's slug, in file order
    contents_imported: int = 0  # locales' content taken from product documents


# --- reading files ------------------------------------------------------------------------------


def _read_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, "the file is empty")]
    except csv.Error as exc:
        return [], [RowError(1, f"unreadable CSV header: {exc}")]
    header = [column.strip() for column in header]
    errors = []
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        errors.append(RowError(1, f"unknown column(s) {unknown}; allowed: {list(COLUMNS)}"))
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        errors.append(RowError(1, f"missing required column(s) {missing}"))
    if len(set(header)) != len(header):
        errors.append(RowError(1, "a column name appears twice"))
    if errors:
        return [], errors
    rows: list[tuple[int, dict[str, Any]]] = []
    last_line = reader.line_num
    while True:
        start = last_line + 1  # a quoted field may span lines: report where the record starts
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(start, f"unreadable CSV: {exc}"))
            break
        last_line = reader.line_num
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            errors.append(RowError(start, f"expected {len(header)} fields, found {len(record)}"))
            continue
        row: dict[str, Any] = dict(zip(header, record, strict=True))
        for column in JSON_COLUMNS:
            if column in row:
                row[column] = _json_cell(row[column], column=column, line=start, errors=errors)
        rows.append((start, row))
    return rows, errors


def _json_cell(cell: str, *, column: str, line: int, errors: list[RowError]) -> Any:
    if not cell.strip():
        return None
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        errors.append(RowError(line, f"{column}: not valid JSON ({exc.msg})"))
        return None


def _read_json(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """A top-level array of objects; each row's line is where its object starts."""
    newlines = [i for i, char in enumerate(text) if char == "\n"]

    def line_of(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    def skip(offset: int) -> int:
        while offset < len(text) and text[offset] in " \t\r\n":
            offset += 1
        return offset

    decoder = json.JSONDecoder()
    offset = skip(0)
    if offset < len(text) and text[offset] == "{":  # one product (e.g. one seed 002 document)
        try:
            value, end = decoder.raw_decode(text, offset)
        except json.JSONDecodeError as exc:
            return [], [RowError(exc.lineno, f"invalid JSON: {exc.msg}")]
        if skip(end) != len(text):
            return [], [RowError(line_of(skip(end)), "unexpected data after the object (use an array or JSON Lines)")]
        return [(line_of(offset), value)], []
    if offset >= len(text) or text[offset] != "[":
        return [], [RowError(line_of(offset), "expected a JSON array of product objects, or one object")]
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    offset = skip(offset + 1)
    if offset < len(text) and text[offset] == "]":
        return [], []
    while True:
        try:
            value, end = decoder.raw_decode(text, offset)
        except json.JSONDecodeError as exc:
            return rows, [*errors, RowError(exc.lineno, f"invalid JSON: {exc.msg}")]
        if isinstance(value, dict):
            rows.append((line_of(offset), value))
        else:
            errors.append(RowError(line_of(offset), "expected an object"))
        offset = skip(end)
        if offset < len(text) and text[offset] == ",":
            offset = skip(offset + 1)
            continue
        if offset < len(text) and text[offset] == "]":
            if skip(offset + 1) != len(text):
                errors.append(RowError(line_of(skip(offset + 1)), "unexpected data after the array"))
            return rows, errors
        return rows, [*errors, RowError(line_of(offset), "invalid JSON: expected ',' or ']'")]


def _read_jsonl(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    rows, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, f"invalid JSON: {exc.msg}"))
            continue
        if isinstance(value, dict):
            rows.append((number, value))
        else:
            errors.append(RowError(number, "expected an object"))
    return rows, errors


# --- validating rows ----------------------------------------------------------------------------


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value  # non-strings are reported by the caller


def _validate_row(line: int, row: dict[str, Any]) -> tuple[ProductRow | None, list[str]]:
    if not is_document(row):
        return _validate_flat(line, row)
    product_input, extras, problems = document_split(row)
    if problems and not product_input:
        return None, problems
    product, input_problems = _validate_flat(line, product_input, document=True)
    # Say which part of the document a problem is in: "product_input.name: required".
    problems = [f"product_input{':' if p.startswith('unknown') else '.'}{p}" for p in input_problems] + problems
    images = extras["images"]
    problems += images_problems(images)
    if problems or product is None:
        return None, problems
    return (
        dataclasses.replace(
            product,
            images=images,
            document=True,
            customer_reviews=extras["customer_reviews"],
            content_metadata=extras["content_metadata"],
            qa=extras["qa"],
            contents=extras["contents"],
        ),
        [],
    )


def _validate_flat(line: int, row: dict[str, Any], *, document: bool = False) -> tuple[ProductRow | None, list[str]]:
    """The CSV's columns, or a document's `product_input` (whose images sit at the document's top level)."""
    problems: list[str] = []
    unknown = sorted(set(row) - set(COLUMNS) - ({"images"} if document else set()))
    if unknown:
        problems.append(f"unknown field(s) {unknown}")
    values = {key: _text(row, key) for key in ("name", "slug", "brand", "category", "description")}
    values.update({key: _text(row, key) for key in ("url_source", "image_uri")})
    for key, value in values.items():
        if not isinstance(value, str):
            problems.append(f"{key}: must be text")
            values[key] = ""
    for key in REQUIRED:
        if not values[key]:
            problems.append(f"{key}: required")
    for key, limit in MAX_LENGTHS.items():
        if len(values[key]) > limit:
            problems.append(f"{key}: longer than {limit} characters")
    if len(values["description"]) > DESCRIPTION_MAX:
        problems.append(f"description: longer than {DESCRIPTION_MAX} characters")

    slug = values["slug"] or slugify(values["name"])
    if values["slug"]:
        try:
            validate_slug(slug)
        except DjangoValidationError:
            problems.append("slug: only letters, numbers, hyphens and underscores")
    elif values["name"] and not slug:
        problems.append("slug: none given and the name has no letters or digits to make one")
    for key in ("brand", "category"):
        if values[key] and not slugify(values[key]):
            problems.append(f"{key}: needs letters or digits")

    for key in ("url_source", "image_uri"):
        if values[key]:
            try:
                _url(values[key])
            except DjangoValidationError:
                problems.append(f"{key}: not an http(s) URL")

    msrp = _price(row.get("msrp_price"), problems)

    specs = row.get("specs")
    specs = {} if specs is None else specs
    if not isinstance(specs, dict):
        problems.append("specs: must be a JSON object of name → value")
        specs = {}
    elif any(not _scalar_or_scalars(value) for value in specs.values()):
        problems.append("specs: values must be text, numbers, booleans or lists of those")
    store_links = {} if row.get("store_links") is None else row["store_links"]
    problems += store_links_problems(store_links)
    images = {} if document or row.get("images") is None else row["images"]
    problems += images_problems(images)
    if problems:
        return None, problems
    return (
        ProductRow(
            line=line,
            name=values["name"],
            slug=slug,
            brand=values["brand"],
            category=values["category"],
            description=values["description"],
            msrp_price=msrp,
            url_source=values["url_source"],
            image_uri=values["image_uri"],
            specs=specs,
            store_links=store_links,
            images=images,
        ),
        [],
    )


def _scalar_or_scalars(value: Any) -> bool:
    scalar = (str, int, float, bool)
    return isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value))


def _price(raw: Any, problems: list[str]) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        problems.append("msrp_price: must be a number")
        return None
    try:
        price = Decimal(str(raw).strip())
    except InvalidOperation:
        problems.append(f"msrp_price: {str(raw)[:40]!r} is not a number (use 1299.99, no currency or separators)")
        return None
    if not price.is_finite() or price < 0:
        problems.append("msrp_price: must be zero or more")
    elif price > MSRP_MAX:
        problems.append(f"msrp_price: at most {MSRP_MAX}")
    elif price != price.quantize(Decimal("0.01")):
        problems.append("msrp_price: at most two decimal places")
    else:
        return price.quantize(Decimal("0.01"))
    return None


def product_rows_validate(*, text: str, file_format: str) -> tuple[list[ProductRow], list[RowError]]:
    """Parse and validate a whole file; (valid rows, every problem with its line)."""
    reader = {"csv": _read_csv, "json": _read_json, "jsonl": _read_jsonl}.get(file_format)
    if reader is None:
        raise DomainError(f"Unknown file format {file_format!r}; use csv, json or jsonl.", code="import_format")
    raw_rows, errors = reader(text)
    valid: list[ProductRow] = []
    first_line_of: dict[str, int] = {}
    for line, raw in raw_rows:
        # Text PostgreSQL or UTF-8 would refuse (NUL, lone surrogates, control characters) is dropped here.
        row, problems = _validate_row(line, data_clean(raw))
        errors.extend(RowError(line, problem) for problem in problems)
        if row is None:
            continue
        if row.slug in first_line_of:
            errors.append(RowError(line, f"slug {row.slug!r} already used on line {first_line_of[row.slug]}"))
            continue
        first_line_of[row.slug] = line
        valid.append(row)
    if not raw_rows and not errors:
        errors.append(RowError(1, "the file has no product rows"))
    return valid, sorted(errors, key=lambda error: error.line)


# --- writing ------------------------------------------------------------------------------------


_Named = TypeVar("_Named", Brand, Category)


def _ensure_named(model: type[_Named], names: set[str]) -> tuple[dict[str, _Named], int]:
    """name → row, matching existing rows by slug (so "Fender" and "fender" are one brand)."""
    by_slug = {slugify(name): name for name in sorted(names)}
    existing = {obj.slug: obj for obj in model.objects.filter(slug__in=list(by_slug))}
    missing = [model(name=name, slug=slug) for slug, name in by_slug.items() if slug not in existing]
    if missing:
        # ignore_conflicts: a concurrent import may create the same brand; we re-read below.
        model.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {obj.slug: obj for obj in model.objects.filter(slug__in=list(by_slug))}
    unresolved = sorted(slug for slug in by_slug if slug not in existing)
    if unresolved:
        # Same name under another slug (created by hand): the unique name refused our row.
        existing.update(
            {slugify(obj.name): obj for obj in model.objects.filter(name__in=[by_slug[s] for s in unresolved])}
        )
    return {name: existing[slugify(name)] for name in names}, len(missing)


def _imported_contents(rows: list[ProductRow]) -> int:
    """The documents' locale content as ProductContent rows (provider `import`); statuses follow."""
    by_slug = {row.slug: row for row in rows if row.contents}
    if not by_slug:
        return 0
    ids: dict[str, int] = {}
    slugs = list(by_slug)
    for start in range(0, len(slugs), 2000):
        ids.update(Product.objects.filter(slug__in=slugs[start : start + 2000]).values_list("slug", "pk"))
    provenance = Provenance(
        task=CONTENT_TASK,
        task_version=0,  # not written by any version of our task
        provider=IMPORT_PROVIDER,
        model=IMPORT_MODEL,
        is_fallback=False,
        generated_at=timezone.now(),
    )
    items = [
        (ids[slug], locale, content, provenance)
        for slug, row in by_slug.items()
        for locale, content in row.contents.items()
    ]
    return product_contents_apply_many(items=items)


def products_import(*, rows: list[ProductRow]) -> ImportSummary:
    """Upsert validated rows on slug in one transaction; creates brands and categories as needed.

    A flat row leaves the document-only parts (reviews, metadata, Q&A, content) as they are; a
    document row sets them.
    """
    summary = ImportSummary(rows=len(rows))
    if not rows:
        return summary
    now = timezone.now()
    with transaction.atomic():
        brands, summary.brands_created = _ensure_named(Brand, {row.brand for row in rows})
        categories, summary.categories_created = _ensure_named(Category, {row.category for row in rows})
        slugs = [row.slug for row in rows]
        existing: set[str] = set()
        for start in range(0, len(slugs), 2000):
            existing.update(Product.objects.filter(slug__in=slugs[start : start + 2000]).values_list("slug", flat=True))
        for document in (False, True):
            group = [row for row in rows if row.document is document]
            if not group:
                continue
            Product.objects.bulk_create(
                [
                    Product(
                        name=row.name,
                        slug=row.slug,
                        brand=brands[row.brand],
                        category=categories[row.category],
                        description=row.description,
                        msrp_price=row.msrp_price,
                        url_source=row.url_source,
                        image_uri=row.image_uri,
                        specs=row.specs,
                        store_links=row.store_links,
                        images=row.images,
                        customer_reviews=row.customer_reviews,
                        content_metadata=row.content_metadata,
                        qa=row.qa,
                        updated_at=now,
                    )
                    for row in group
                ],
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["slug"],
                update_fields=DOCUMENT_UPDATE_FIELDS if document else UPDATE_FIELDS,
            )
        summary.contents_imported = _imported_contents(rows)
    summary.slugs = slugs
    summary.created = sum(1 for slug in slugs if slug not in existing)
    summary.updated = len(rows) - summary.created
    return summary


def file_format_for(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"ndjson": "jsonl"}.get(suffix, suffix)


def products_import_file(*, path: Path, file_format: str | None = None) -> ImportSummary:
    """Validate the whole file, then import it; raises ProductImportError listing every bad row."""
    file_format = file_format or file_format_for(path)
    if path.stat().st_size > IMPORT_MAX_BYTES:
        raise DomainError(f"{path.name} is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB.", code="import_too_big")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProductImportError([RowError(1, f"the file is not UTF-8 ({exc.reason})")]) from exc
    rows, errors = product_rows_validate(text=text, file_format=file_format)
    if errors:
        raise ProductImportError(errors)
    return products_import(rows=rows)


def demo_catalog_load() -> ImportSummary:
    """The bundled demo catalog (66 instruments over 6 categories); safe to run repeatedly."""
    return products_import_file(path=DEMO_CATALOG)
