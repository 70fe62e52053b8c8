"""Seed 002's product document: its shape, checked part by part, and the document of a stored product.

    {"product_input": {name, slug, brand, category, description, msrp_price, url_source, image_uri,
                       specs, store_links: {store: {product_url, ref_id}}},
     "images": {front_view | back_view | official_image: {source, page_url, image_url}},
     "ai_generated_content": {locale: {basic_info, technical_analysis, ...}},
     "customer_reviews": {...}, "content_metadata": {...}, "qa": {...}}

Importing keeps every part (the locales' content as ProductContent rows with provider `import`, the
rest on the product), so exporting gives the same document back. The checks here are pure: they
return problems as text ("images.front_view.image_url: not an http(s) URL"), never raise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator

from catalog.products.models import CONTENT_SECTIONS, LOCALES, Product

DOCUMENT_KEYS = ("product_input", "images", "ai_generated_content", "customer_reviews", "content_metadata", "qa")
PRODUCT_EXTRA_KEYS = ("customer_reviews", "content_metadata", "qa")
STORE_LINK_KEYS = ("product_url", "ref_id")
IMAGE_VIEWS = ("front_view", "back_view", "official_image")
IMAGE_KEYS = ("source", "page_url", "image_url")
# A locale's content: the six sections, and (as this project generates them per locale) the three
# parts the seed keeps at the top level.
LOCALE_PARTS = (*CONTENT_SECTIONS, *PRODUCT_EXTRA_KEYS)
STORE_KEY_MAX = 60
REF_ID_MAX = 200
SOURCE_MAX = 200
URL_MAX = 500
IMPORT_PROVIDER = "import"
IMPORT_MODEL = "imported"
_url = URLValidator(schemes=["http", "https"])


def is_document(row: dict[str, Any]) -> bool:
    """A row in the seed's nested shape (rather than the flat columns of a CSV)."""
    return "product_input" in row


def _url_problem(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > URL_MAX:
        return f"{where}: must be an http(s) URL (at most {URL_MAX} characters) or null"
    try:
        _url(value)
    except DjangoValidationError:
        return f"{where}: not an http(s) URL"
    return None


def store_links_problems(value: Any, *, where: str = "store_links") -> list[str]:
    """{store: {"product_url": URL or null, "ref_id": text, number or null}}."""
    if not isinstance(value, dict):
        return [f"{where}: must be an object of store → {{product_url, ref_id}}"]
    problems = []
    for store, link in value.items():
        here = f"{where}.{store}"
        if not store.strip() or len(store) > STORE_KEY_MAX:
            problems.append(f"{where}: store names are 1 to {STORE_KEY_MAX} characters")
            continue
        if not isinstance(link, dict):
            problems.append(f"{here}: must be an object with product_url and ref_id")
            continue
        unknown = sorted(set(link) - set(STORE_LINK_KEYS))
        if unknown:
            problems.append(f"{here}: unknown key(s) {unknown}; allowed: {list(STORE_LINK_KEYS)}")
        problem = _url_problem(link.get("product_url"), f"{here}.product_url")
        if problem:
            problems.append(problem)
        ref_id = link.get("ref_id")
        if ref_id is not None and (
            isinstance(ref_id, bool) or not isinstance(ref_id, str | int) or len(str(ref_id)) > REF_ID_MAX
        ):
            problems.append(f"{here}.ref_id: text or a number (at most {REF_ID_MAX} characters) or null")
    return problems


def images_problems(value: Any, *, where: str = "images") -> list[str]:
    """{front_view | back_view | official_image: {"source", "page_url", "image_url"} or null}."""
    if not isinstance(value, dict):
        return [f"{where}: must be an object of view → {{source, page_url, image_url}}"]
    problems = []
    unknown_views = sorted(set(value) - set(IMAGE_VIEWS))
    if unknown_views:
        problems.append(f"{where}: unknown view(s) {unknown_views}; allowed: {list(IMAGE_VIEWS)}")
    for view in IMAGE_VIEWS:
        image = value.get(view)
        here = f"{where}.{view}"
        if image is None:
            continue
        if not isinstance(image, dict):
            problems.append(f"{here}: must be an object with source, page_url and image_url, or null")
            continue
        unknown = sorted(set(image) - set(IMAGE_KEYS))
        if unknown:
            problems.append(f"{here}: unknown key(s) {unknown}; allowed: {list(IMAGE_KEYS)}")
        source = image.get("source")
        if source is not None and (not isinstance(source, str) or len(source) > SOURCE_MAX):
            problems.append(f"{here}.source: text (at most {SOURCE_MAX} characters) or null")
        for key in ("page_url", "image_url"):
            problem = _url_problem(image.get(key), f"{here}.{key}")
            if problem:
                problems.append(problem)
    return problems


def _content_problems(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return ["ai_generated_content: must be an object of locale → content"]
    problems = []
    unknown = sorted(set(value) - set(LOCALES))
    if unknown:
        problems.append(f"ai_generated_content: unknown locale(s) {unknown}; allowed: {list(LOCALES)}")
    for locale in LOCALES:
        content = value.get(locale)
        here = f"ai_generated_content.{locale}"
        if content is None:
            continue
        if not isinstance(content, dict):
            problems.append(f"{here}: must be an object of section → content")
            continue
        unknown_parts = sorted(set(content) - set(LOCALE_PARTS))
        if unknown_parts:
            problems.append(f"{here}: unknown section(s) {unknown_parts}; allowed: {list(LOCALE_PARTS)}")
        problems += [
            f"{here}.{part}: must be an object or an array"
            for part, section in content.items()
            if part in LOCALE_PARTS and not isinstance(section, dict | list)
        ]
    return problems


def document_split(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(the product_input columns, the document's other parts, problems of the document's shape)."""
    problems = []
    unknown = sorted(set(row) - set(DOCUMENT_KEYS))
    if unknown:
        problems.append(f"unknown field(s) {unknown}; a product document has {list(DOCUMENT_KEYS)}")
    product_input = row.get("product_input")
    if not isinstance(product_input, dict):
        return {}, {}, [*problems, "product_input: must be an object"]
    if "images" in product_input:
        problems.append("product_input.images: images belong at the document's top level")
    images = row.get("images")
    extras: dict[str, Any] = {"images": {} if images is None else images}
    for key in PRODUCT_EXTRA_KEYS:
        value = row.get(key)
        value = {} if value is None else value
        if not isinstance(value, dict | list):
            problems.append(f"{key}: must be an object or an array")
        extras[key] = value
    content = row.get("ai_generated_content")
    content = {} if content is None else content
    problems += _content_problems(content)
    extras["contents"] = (
        {locale: part for locale, part in content.items() if locale in LOCALES and isinstance(part, dict) and part}
        if isinstance(content, dict)
        else {}
    )
    return product_input, extras, problems


# --- a stored product as a document -------------------------------------------------------------------


def _price(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def product_document(product: Product) -> dict[str, Any]:
    """The product in seed 002's shape; every locale is listed (`{}` when it has no content yet).

    The product needs brand and category loaded and its contents prefetched as `content_locales`
    (as `product_get` does); else they are read here.
    """
    rows = getattr(product, "content_locales", None)
    if rows is None:
        rows = list(product.contents.order_by("locale"))
    contents = {row.locale: row.content for row in rows}
    return {
        "product_input": {
            "name": product.name,
            "slug": product.slug,
            "brand": product.brand.name,
            "category": product.category.name,
            "description": product.description,
            "msrp_price": _price(product.msrp_price),
            "url_source": product.url_source,
            "image_uri": product.image_uri,
            "specs": product.specs,
            "store_links": product.store_links or {},
        },
        "images": product.images or {},
        "ai_generated_content": {locale: contents.get(locale, {}) for locale in LOCALES},
        "customer_reviews": product.customer_reviews,
        "content_metadata": product.content_metadata,
        "qa": product.qa,
    }
