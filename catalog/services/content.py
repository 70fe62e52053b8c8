"""Writes of generated product content and of the product's processing status.

A product's status is always computed from its content rows inside one UPDATE statement, never
read into Python and written back, so concurrent applies (bulk threads, batch ingest, a staff
click) cannot overwrite each other's view:
  any fallback locale → fallback; all seven locales from a model → completed;
  some locales only → pending (more to generate); none → the caller's default.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Subquery, TextField, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from catalog.models import LOCALES, Product, ProductContent
from config.errors import NotFoundError
from llm.task import Provenance

Status = Product.ProcessingStatus
# Ids per UPDATE ... WHERE id IN (...): far below SQLite's variable limit, big enough to stay few.
STATUS_CHUNK = 2000
ERROR_MESSAGE_MAX = 2000
CONTENT_UPDATE_FIELDS = ["content", "provider", "model", "task_version", "is_fallback", "generated_at", "llm_call_id"]


def _status_conditions() -> tuple[Exists, GreaterThanOrEqual, Exists]:
    contents = ProductContent.objects.filter(product=OuterRef("pk"))
    model_written = (
        contents.filter(is_fallback=False).order_by().values("product").annotate(n=Count("pk")).values("n")[:1]
    )
    has_fallback = Exists(contents.filter(is_fallback=True))
    all_locales = GreaterThanOrEqual(Coalesce(Subquery(model_written), Value(0)), len(LOCALES))
    has_any = Exists(contents)
    return has_fallback, all_locales, has_any


def _status_expression(*, without_content: Any) -> Case:
    has_fallback, all_locales, has_any = _status_conditions()
    return Case(
        When(has_fallback, then=Value(Status.FALLBACK)),
        When(all_locales, then=Value(Status.COMPLETED)),
        When(has_any, then=Value(Status.PENDING)),
        default=without_content,
        output_field=CharField(),
    )


def products_status_refresh(*, product_ids: Iterable[int]) -> int:
    """Recompute status (and processed_at) of products that just got content; returns rows updated."""
    ids = sorted(set(product_ids))
    now = timezone.now()
    updated = 0
    for start in range(0, len(ids), STATUS_CHUNK):
        has_fallback, all_locales, _ = _status_conditions()
        updated += Product.objects.filter(pk__in=ids[start : start + STATUS_CHUNK]).update(
            processing_status=_status_expression(without_content=Value(Status.PENDING)),
            # A product whose every locale is now model-written has nothing left to report.
            error_message=Case(
                When(~has_fallback & all_locales, then=Value("")),
                default=F("error_message"),
                output_field=TextField(),
            ),
            processed_at=now,
            updated_at=now,
        )
    return updated


def _content_values(*, product_id: int, locale: str, content: dict[str, Any], provenance: Provenance) -> dict[str, Any]:
    """Column → value of one content row (bulk paths skip building model instances)."""
    return {
        "product_id": product_id,
        "locale": locale,
        "content": content,
        "provider": provenance.provider[:40],
        "model": provenance.model[:100],
        "task_version": provenance.task_version,
        "is_fallback": provenance.is_fallback,
        "generated_at": provenance.generated_at,
        "llm_call_id": provenance.call_id,
    }


# (field, PostgreSQL type) of the columns the bulk upsert writes.
_PG_COLUMNS = (
    ("product", "bigint"),
    ("locale", "text"),
    ("content", "jsonb"),
    ("provider", "text"),
    ("model", "text"),
    ("task_version", "integer"),
    ("is_fallback", "boolean"),
    ("generated_at", "timestamptz"),
    ("llm_call_id", "bigint"),
)


def _pg_upsert_sql() -> str:
    meta, quote = ProductContent._meta, connection.ops.quote_name
    columns = [(meta.get_field(name).column, sql_type) for name, sql_type in _PG_COLUMNS]
    names = ", ".join(quote(column) for column, _ in columns)
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c, _ in columns if c not in ("product_id", "locale"))
    record = ", ".join(f"{quote(column)} {sql_type}" for column, sql_type in columns)
    # Only identifiers from the model's own metadata go into the text; the data is the one parameter.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "
        f"ON CONFLICT ({quote('product_id')}, {quote('locale')}) DO UPDATE SET {updates}"
    )


def _upsert(rows: list[dict[str, Any]], *, chunk_size: int) -> None:
    """INSERT ... ON CONFLICT (product, locale) DO UPDATE for many rows, one statement per chunk.

    On PostgreSQL the chunk travels as one JSON parameter expanded by jsonb_to_recordset: Django's
    bulk_create would send UNNEST arrays, whose client-side quoting of ~3 KB JSON documents costs
    about twice as much, and a 50,000-line batch ingest must fit in a minute.
    """
    if connection.vendor != "postgresql":
        ProductContent.objects.bulk_create(
            [ProductContent(**row) for row in rows],
            batch_size=chunk_size,
            update_conflicts=True,
            unique_fields=["product", "locale"],
            update_fields=CONTENT_UPDATE_FIELDS,
        )
        return
    sql = _pg_upsert_sql()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            payload = [{**row, "generated_at": row["generated_at"].isoformat()} for row in chunk]
            cursor.execute(sql, [json.dumps(payload, ensure_ascii=False, separators=(",", ":"))])


def product_content_apply(
    *, product_id: int, locale: str, content: dict[str, Any], provenance: Provenance
) -> ProductContent:
    """Upsert one locale's content with its provenance and refresh the product's status (idempotent)."""
    row = ProductContent(
        **_content_values(product_id=product_id, locale=locale, content=content, provenance=provenance)
    )
    with transaction.atomic():
        ProductContent.objects.bulk_create(
            [row], update_conflicts=True, unique_fields=["product", "locale"], update_fields=CONTENT_UPDATE_FIELDS
        )
        if not products_status_refresh(product_ids=[product_id]):
            # Rolls the content row back too: it would point at nothing (the FK is checked at commit).
            raise NotFoundError(f"Product {product_id} no longer exists.", code="product_not_found")
    return row


def product_contents_apply_many(
    *, items: Sequence[tuple[int, str, dict[str, Any], Provenance]], chunk_size: int = 1000
) -> int:
    """Upsert many (product_id, locale, content, provenance) at once: a few queries per chunk.

    All or nothing: if any product is gone, nothing is written and NotFoundError names it (the
    caller can then apply item by item). A pair given twice keeps its last output.
    """
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for product_id, locale, content, provenance in items:
        latest[(product_id, locale)] = _content_values(
            product_id=product_id, locale=locale, content=content, provenance=provenance
        )
    if not latest:
        return 0
    product_ids = {product_id for product_id, _ in latest}
    with transaction.atomic():
        _upsert(list(latest.values()), chunk_size=chunk_size)
        if products_status_refresh(product_ids=product_ids) != len(product_ids):
            existing = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
            missing = sorted(product_ids - existing)
            raise NotFoundError(
                f"{len(missing)} product(s) no longer exist: {missing[:20]}",
                code="product_not_found",
                detail={"missing_product_ids": missing[:1000]},
            )
    return len(latest)


def product_content_fail(*, product_id: int, locale: str, reason: str) -> bool:
    """Record why a locale could not be generated; failed unless the product has content already."""
    now = timezone.now()
    updated = Product.objects.filter(pk=product_id).update(
        error_message=f"{locale}: {reason}"[:ERROR_MESSAGE_MAX],
        processing_status=_status_expression(without_content=Value(Status.FAILED)),
        updated_at=now,
    )
    return bool(updated)


def products_mark_queued(*, product_ids: Iterable[int], batch_id: str) -> int:
    """Products taken by a batch: queued until its results are applied (or fail)."""
    ids = sorted(set(product_ids))
    now = timezone.now()
    updated = 0
    for start in range(0, len(ids), STATUS_CHUNK):
        updated += Product.objects.filter(pk__in=ids[start : start + STATUS_CHUNK]).update(
            processing_status=Status.QUEUED, batch_id=batch_id[:100], updated_at=now
        )
    return updated
