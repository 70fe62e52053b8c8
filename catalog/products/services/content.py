"""Writes of generated product content and of the product's processing status.

Every write locks the products it touches first (SELECT ... FOR UPDATE, in id order), then
upserts content, then derives the status from the content rows it can now see. Under READ
COMMITTED a later statement sees what a concurrent writer committed before our lock was granted,
so two applies for different locales of one product (bulk threads, batch ingest, a staff click)
can never leave a status that neither of them would compute alone:
  any fallback locale → fallback; all seven locales from a model → completed;
  some locales only → pending (more to generate); none → the caller's default (e.g. failed).

A fallback never replaces model content: a rule-based result only fills a locale that is empty or
already a fallback (model content always replaces a fallback). On PostgreSQL the bulk upsert says
so in its ON CONFLICT ... WHERE; elsewhere, and for the single apply, the rows are filtered under
the product lock (every content writer takes it first, so nothing changes between read and write).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Field, IntegerField, OuterRef, Q, Subquery
from django.utils import timezone

from catalog.products.models import LOCALES, Product, ProductContent
from config.errors import NotFoundError
from llm.task import Provenance

Status = Product.ProcessingStatus
# Ids per WHERE id IN (...): far below SQLite's variable limit, big enough to stay few queries.
STATUS_CHUNK = 2000
ERROR_MESSAGE_MAX = 2000
CONTENT_UPDATE_FIELDS = ["content", "provider", "model", "task_version", "is_fallback", "generated_at", "llm_call_id"]


def _plain_plans() -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction.

    Right after bulk writes the table statistics are stale: the planner estimates millions of rows
    for a 1,000-product lookup that touches 7,000, and JIT then spends about a second compiling
    statements that run in milliseconds (measured on the 50,000-line batch ingest).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _lock_products(ids: list[int]) -> set[int]:
    """Lock these product rows for the transaction (id order: no deadlocks); the ids that exist."""
    locked: set[int] = set()
    for start in range(0, len(ids), STATUS_CHUNK):
        chunk = ids[start : start + STATUS_CHUNK]
        locked.update(
            Product.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True)
        )
    return locked


def _content_counts(ids: list[int]) -> list[tuple[int, int | None, int | None]]:
    """(product id, model-written locales, fallback locales); None for both when it has none.

    Correlated per product, so each count is an index lookup on product_id whatever the planner
    believes about the table's size (a GROUP BY over an IN list turns into a full scan when the
    statistics are stale).
    """
    per_product = ProductContent.objects.filter(product=OuterRef("pk")).order_by().values("product")

    def count(*, is_fallback: bool) -> Subquery:
        # FILTER on the aggregate, not WHERE: a WHERE on is_fallback lets a planner with stale
        # statistics AND in the is_fallback index, a scan of the whole table per product.
        counted = per_product.annotate(n=Count("pk", filter=Q(is_fallback=is_fallback))).values("n")
        return Subquery(counted, output_field=IntegerField())

    return list(
        Product.objects.filter(pk__in=ids)
        .annotate(model_written=count(is_fallback=False), fallbacks=count(is_fallback=True))
        .order_by("pk")
        .values_list("pk", "model_written", "fallbacks")
    )


def _status_from(counts: tuple[int, int] | None, *, without_content: str) -> str:
    if counts is None:
        return without_content
    model_written, fallbacks = counts
    if fallbacks:
        return Status.FALLBACK
    return Status.COMPLETED if model_written >= len(LOCALES) else Status.PENDING


def _write_statuses(
    ids: list[int], *, without_content: str, fields: dict[str, Any], clear_error_when_completed: bool
) -> None:
    """Set each (locked) product's status from its content rows: one read, one UPDATE per status."""
    groups: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(ids), STATUS_CHUNK):
        chunk = ids[start : start + STATUS_CHUNK]
        for product_id, model_written, fallbacks in _content_counts(chunk):
            counts = None if model_written is None and fallbacks is None else (model_written or 0, fallbacks or 0)
            groups[_status_from(counts, without_content=without_content)].append(product_id)
    for status, members in groups.items():
        values = {"processing_status": status, **fields}
        if clear_error_when_completed and status == Status.COMPLETED:
            values["error_message"] = ""  # every locale is model-written now: nothing left to report
        for start in range(0, len(members), STATUS_CHUNK):
            Product.objects.filter(pk__in=members[start : start + STATUS_CHUNK]).update(**values)


def _content_values(
    *, product_id: int, locale: str, content: dict[str, Any] | str, provenance: Provenance
) -> dict[str, Any]:
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


def product_content_rows_keeping_model(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without the fallbacks whose (product, locale) already holds model content.

    Callers hold the products' locks (one read, only when some row is a fallback).
    """
    fallback_products = sorted({row["product_id"] for row in rows if row["is_fallback"]})
    if not fallback_products:
        return rows
    model_written: set[tuple[int, str]] = set()
    for start in range(0, len(fallback_products), STATUS_CHUNK):
        model_written.update(
            ProductContent.objects.filter(
                product_id__in=fallback_products[start : start + STATUS_CHUNK], is_fallback=False
            ).values_list("product_id", "locale")
        )
    return [row for row in rows if not (row["is_fallback"] and (row["product_id"], row["locale"]) in model_written)]


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


def _column(name: str) -> str:
    field = ProductContent._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"ProductContent.{name} is not a column.")
    return field.column


def _pg_upsert(rows: list[dict[str, Any]]) -> None:
    """COPY the rows into a temporary table (dropped with the transaction), then one
    INSERT ... SELECT ... ON CONFLICT (product, locale) DO UPDATE ... WHERE from it: the WHERE lets
    a fallback row update only a fallback (a model row updates anything)."""
    from psycopg.types.json import Jsonb

    meta, quote = ProductContent._meta, connection.ops.quote_name
    columns = [(_column(name), sql_type) for name, sql_type in _PG_COLUMNS]
    names = ", ".join(quote(column) for column, _ in columns)
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c, _ in columns if c not in ("product_id", "locale"))
    record = ", ".join(f"{quote(column)} {sql_type}" for column, sql_type in columns)
    table, is_fallback = quote(meta.db_table), quote(_column("is_fallback"))
    keep_model = f"{table}.{is_fallback} OR NOT EXCLUDED.{is_fallback}"
    temp = quote("_product_content_upsert")
    # Callers hold a transaction (the table goes with it); INSERT and DROP travel as one statement.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({record}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = [row[column] for column, _ in columns]
                content = values[2]
                values[2] = content if isinstance(content, str) else Jsonb(content)  # JSON text as it is
                copy.write_row(values)
        # Only identifiers from the model's own metadata go into the text; the data came by COPY.
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} "  # noqa: S608
            f"ON CONFLICT ({quote('product_id')}, {quote('locale')}) DO UPDATE SET {updates} WHERE {keep_model}; "
            f"DROP TABLE {temp}"
        )


def _bulk_create_upsert(rows: list[dict[str, Any]], *, chunk_size: int) -> None:
    """The portable upsert (SQLite): Django's bulk_create ... ON CONFLICT DO UPDATE, after dropping
    the fallbacks that would replace model content (its ON CONFLICT has no WHERE)."""
    ProductContent.objects.bulk_create(
        [
            ProductContent(**{**row, "content": json.loads(row["content"])})
            if isinstance(row["content"], str)
            else ProductContent(**row)
            for row in product_content_rows_keeping_model(rows)
        ],
        batch_size=chunk_size,
        update_conflicts=True,
        unique_fields=["product", "locale"],
        update_fields=CONTENT_UPDATE_FIELDS,
    )


def _upsert(rows: list[dict[str, Any]], *, chunk_size: int) -> None:
    """INSERT ... ON CONFLICT (product, locale) DO UPDATE for many rows (a fallback never over model content).

    On PostgreSQL the rows travel by COPY (Django's bulk_create would send UNNEST arrays, whose
    client-side quoting of ~3 KB JSON documents costs several times as much, and a batch ingest
    applies hundreds of thousands). A row's content may come as its JSON text already.
    """
    if connection.vendor == "postgresql":
        _pg_upsert(rows)
    else:
        _bulk_create_upsert(rows, chunk_size=chunk_size)


def product_content_apply(
    *, product_id: int, locale: str, content: dict[str, Any], provenance: Provenance
) -> ProductContent:
    """Upsert one locale's content with its provenance and refresh the product's status (idempotent).

    A fallback meeting model content changes nothing; the stored model row is returned then.
    """
    values = _content_values(product_id=product_id, locale=locale, content=content, provenance=provenance)
    row = ProductContent(**values)
    with transaction.atomic():
        _plain_plans()
        if not _lock_products([product_id]):
            raise NotFoundError(f"Product {product_id} no longer exists.", code="product_not_found")
        if product_content_rows_keeping_model([values]):
            ProductContent.objects.bulk_create(
                [row], update_conflicts=True, unique_fields=["product", "locale"], update_fields=CONTENT_UPDATE_FIELDS
            )
        else:
            row = ProductContent.objects.get(product_id=product_id, locale=locale)
        now = timezone.now()
        _write_statuses(
            [product_id],
            without_content=Status.PENDING,
            fields={"processed_at": now, "updated_at": now},
            clear_error_when_completed=True,
        )
    return row


def product_contents_apply_many(
    *, items: Sequence[tuple[int, str, dict[str, Any] | str, Provenance]], chunk_size: int = 1000
) -> int:
    """Upsert many (product_id, locale, content, provenance) at once: a handful of queries per chunk
    (lock, upsert, read counts, one UPDATE per resulting status). A content may be given as its JSON
    text (a batch ingest's outputs are serialized by pydantic, several times faster than json.dumps).

    All or nothing: if any product is gone, nothing is written and NotFoundError names it (the
    caller can then apply item by item). A pair given twice keeps its last output. Returns how many
    pairs were given; a fallback among them that met model content wrote nothing.
    """
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for product_id, locale, content, provenance in items:
        latest[(product_id, locale)] = _content_values(
            product_id=product_id, locale=locale, content=content, provenance=provenance
        )
    if not latest:
        return 0
    product_ids = sorted({product_id for product_id, _ in latest})
    with transaction.atomic():
        _plain_plans()
        missing = sorted(set(product_ids) - _lock_products(product_ids))
        if missing:
            raise NotFoundError(
                f"{len(missing)} product(s) no longer exist: {missing[:20]}",
                code="product_not_found",
                detail={"missing_product_ids": missing[:1000]},
            )
        _upsert(list(latest.values()), chunk_size=chunk_size)
        now = timezone.now()
        _write_statuses(
            product_ids,
            without_content=Status.PENDING,
            fields={"processed_at": now, "updated_at": now},
            clear_error_when_completed=True,
        )
    return len(latest)


def product_content_fail(*, product_id: int, locale: str, reason: str) -> bool:
    """Record why a locale could not be generated; failed unless the product has content already."""
    with transaction.atomic():
        _plain_plans()
        if not _lock_products([product_id]):
            return False
        _write_statuses(
            [product_id],
            without_content=Status.FAILED,
            fields={"error_message": f"{locale}: {reason}"[:ERROR_MESSAGE_MAX], "updated_at": timezone.now()},
            clear_error_when_completed=False,
        )
    return True


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


def product_contents_mark_stale() -> int:
    """A prompt-version bump (admin → LLM tasks): every product with content goes back to `pending`, so
    the next generation run rewrites it. Returns how many products were marked."""
    with_content = ProductContent.objects.values("product_id")
    return (
        Product.objects.filter(pk__in=with_content)
        .exclude(processing_status=Product.ProcessingStatus.PENDING)
        .update(processing_status=Product.ProcessingStatus.PENDING)
    )
