"""Per-row different values written in one statement: UPDATE ... FROM (VALUES ...).

Django's bulk_update builds a CASE expression per field and row in Python, which costs seconds per
thousand rows; ingest writes tens of thousands. PostgreSQL and SQLite (3.33+) both join an UPDATE
to a VALUES list. Identifiers come from model metadata (quoted); every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

CHUNK = 1000


def _template(model: type[Model], fields: Sequence[str], constants: Sequence[str]) -> tuple[str, str]:
    """(UPDATE statement with a {values} slot, SQL of one VALUES row) for this backend."""
    meta = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    fixed = "".join(f"{quote(meta.get_field(name).column)} = %s, " for name in constants)
    columns = [quote(meta.get_field(name).column) for name in fields]
    if connection.vendor == "postgresql":
        # Typed placeholders: a VALUES column of NULLs would otherwise be text, not the column's type.
        kinds = [meta.pk.db_type(connection), *(meta.get_field(name).db_type(connection) for name in fields)]
        row_sql = "(" + ", ".join(f"%s::{kind}" for kind in kinds) + ")"
        names = ", ".join(["id", *(f"c{i}" for i in range(len(columns)))])
        assignments = ", ".join(f"{column} = v.c{i}" for i, column in enumerate(columns))
        statement = f"UPDATE {table} AS t SET {fixed}{assignments} FROM (VALUES {{values}}) AS v({names}) "  # noqa: S608
        return statement + f"WHERE t.{pk} = v.id", row_sql
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
    template, row_sql = _template(model, fields, list(constants))
    fixed_params = [
        model._meta.get_field(name).get_db_prep_save(value, connection) for name, value in constants.items()
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = [*fixed_params, *(value for row in chunk for value in row)]
            cursor.execute(template.format(values=", ".join([row_sql] * len(chunk))), params)


def rows_insert(*, model: type[Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert rows (values in `fields` order) without returning their ids.

    PostgreSQL: COPY, the bulk-load path (bulk_create's UNNEST arrays are escaped value by value
    in Python under client-side binding, ~0.4 ms a row here). Elsewhere: bulk_create.
    """
    if not rows:
        return 0
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql":
        attnames = [field.attname for field in model_fields]
        model.objects.bulk_create([model(**dict(zip(attnames, row, strict=True))) for row in rows])
        return len(rows)
    from psycopg.types.json import Jsonb

    json_columns = [i for i, field in enumerate(model_fields) if field.get_internal_type() == "JSONField"]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in model_fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            if json_columns:
                row = list(row)
                for i in json_columns:
                    row[i] = Jsonb(row[i])
            copy.write_row(row)
    return len(rows)
