"""Bulk writes of rows with per-row values, for batches of tens or hundreds of thousands of items.

Django's bulk_update builds a CASE expression per field and row in Python, which costs seconds per
thousand rows, and bulk_create's UNNEST arrays are escaped value by value in Python under
client-side binding. On PostgreSQL rows travel with COPY, the bulk-load path (no SQL text to build,
quote or parse per value): inserted straight into the table, or, to update, into a temporary table
that one UPDATE ... FROM joins. SQLite (3.33+) joins an UPDATE to a VALUES list and inserts with
bulk_create. Identifiers come from model metadata (quoted); every value is a parameter or a COPY
field.

`gc_paused` keeps Python's cyclic garbage collector from rescanning every long-lived object of the
process while bulk code allocates hundreds of thousands of short-lived ones (it was 40 % of
ingest's CPU time).
"""

from __future__ import annotations

import gc
import itertools
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import Field, Model

CHUNK = 1000
_temp_names = itertools.count(1)


class JSONText(str):
    """A JSONField value given as its JSON text already (pydantic's `model_dump_json` is several times
    faster than `json.dumps` of a dump): COPY sends it as it is."""


_gc_lock = threading.Lock()
_gc_depth = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Move every object alive now out of the collector's reach for the block (`gc.freeze`), so the
    collections during the block scan only what it allocates; they are handed back when the
    outermost such block (in any thread) ends."""
    global _gc_depth
    with _gc_lock:
        _gc_depth += 1
        gc.freeze()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if not _gc_depth:
                gc.unfreeze()


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    """A concrete field of `model` (a reverse relation has no column)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise FieldDoesNotExist(f"{model._meta.label}.{name} is not a concrete field.")
    return field


def _column(field: Field[Any, Any]) -> str:
    if field.column is None:
        raise FieldDoesNotExist(f"{field} has no column.")
    return field.column


def db_column(model: type[Model], name: str) -> str:
    """The database column of `model`'s concrete field `name`."""
    return _column(_field(model, name))


def _copy_rows(
    model: type[Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]], *, offset: int = 0
) -> Iterable[tuple[Any, ...]]:
    """The rows as COPY writes them: JSONField values wrapped as jsonb (`offset`: leading non-field
    columns, such as the id of an update)."""
    from psycopg.types.json import Jsonb

    meta = model._meta
    json_at = [i + offset for i, name in enumerate(fields) if meta.get_field(name).get_internal_type() == "JSONField"]
    if not json_at:
        return rows

    def wrap(value: Any) -> Any:
        return value if value is None or isinstance(value, JSONText) else Jsonb(value)

    return (tuple(wrap(value) if i in json_at else value for i, value in enumerate(row)) for row in rows)


def _pg_rows_update(
    model: type[Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]], constants: dict[str, Any]
) -> None:
    meta, quote = model._meta, connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(_column(meta.pk))
    temp = quote(f"_rows_update_{next(_temp_names)}")
    kinds = [meta.pk.rel_db_type(connection), *(meta.get_field(name).db_type(connection) for name in fields)]
    columns = ", ".join(f"c{i} {kind}" for i, kind in enumerate(kinds))
    fixed = "".join(f"{quote(_column(_field(model, name)))} = %s, " for name in constants)
    assignments = ", ".join(f"{quote(_column(_field(model, name)))} = v.c{i + 1}" for i, name in enumerate(fields))
    fixed_params = [_field(model, name).get_db_prep_save(value, connection) for name, value in constants.items()]
    # No savepoint of its own inside a caller's transaction (two round trips saved per call; an error
    # rolls the caller's block back anyway), and the table goes at commit (one more).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({columns}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} FROM STDIN") as copy:  # noqa: S608 - identifiers from metadata
            for row in _copy_rows(model, fields, rows, offset=1):
                copy.write_row(row)
        update = f"UPDATE {table} AS t SET {fixed}{assignments} FROM {temp} AS v WHERE t.{pk} = v.c0"  # noqa: S608
        cursor.execute(update, fixed_params)


def _sqlite_template(model: type[Model], fields: Sequence[str], constants: Sequence[str]) -> tuple[str, str]:
    """(UPDATE statement with a {values} slot, SQL of one VALUES row)."""
    meta = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(_column(meta.pk))
    fixed = "".join(f"{quote(_column(_field(model, name)))} = %s, " for name in constants)
    columns = [quote(_column(_field(model, name))) for name in fields]
    row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    assignments = ", ".join(f"{column} = v.column{i + 2}" for i, column in enumerate(columns))
    statement = f"UPDATE {table} SET {fixed}{assignments} FROM (VALUES {{values}}) AS v "  # noqa: S608
    return statement + f"WHERE {table}.{pk} = v.column1", row_sql


def rows_update(
    *,
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    constants: dict[str, Any] | None = None,
) -> None:
    """Set `fields` per row (each row is (pk, value for each field), in `fields` order), and the
    `constants` (field → value) on every one of those rows."""
    if not rows:
        return
    constants = constants or {}
    if connection.vendor == "postgresql":
        _pg_rows_update(model, fields, rows, constants)
        return
    template, row_sql = _sqlite_template(model, fields, list(constants))
    fixed_params = [_field(model, name).get_db_prep_save(value, connection) for name, value in constants.items()]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = [*fixed_params, *(value for row in chunk for value in row)]
            cursor.execute(template.format(values=", ".join([row_sql] * len(chunk))), params)


def rows_insert(*, model: type[Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert rows (values in `fields` order) without returning their ids."""
    if not rows:
        return 0
    meta = model._meta
    model_fields = [_field(model, name) for name in fields]
    if connection.vendor != "postgresql":
        attnames = [field.attname for field in model_fields]
        decoded = ([json.loads(v) if isinstance(v, JSONText) else v for v in row] for row in rows)
        model._default_manager.bulk_create([model(**dict(zip(attnames, row, strict=True))) for row in decoded])
        return len(rows)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(field)) for field in model_fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,  # noqa: S608
    ):
        for row in _copy_rows(model, fields, rows):
            copy.write_row(row)
    return len(rows)
