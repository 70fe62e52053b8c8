"""Per-row different values written in one statement: UPDATE ... FROM (VALUES ...).

Django's bulk_update builds a CASE expression per field and row in Python, which costs seconds per
thousand rows; ingest writes tens of thousands. PostgreSQL and SQLite (3.33+) both join an UPDATE
to a VALUES list; values are always passed as parameters, never formatted into the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

CHUNK = 1000


def rows_update(*, model: type[Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Set `fields` per row; each row is (pk, value for each field), in `fields` order."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    if connection.vendor == "postgresql":
        # Typed placeholders: a VALUES list of NULLs would otherwise be text, not the column's type.
        types = [meta.pk.db_type(connection)] + [meta.get_field(name).db_type(connection) for name in fields]
        row_sql = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
        names = ["id", *(f"c{i}" for i in range(len(columns)))]
        assignments = ", ".join(f"{quote(column)} = v.c{i}" for i, column in enumerate(columns))
        alias = f"v({', '.join(names)})"
        # Identifiers come from model metadata, quoted; every value is a parameter.
        template = f"UPDATE {table} AS t SET {assignments} FROM (VALUES {{values}}) AS {alias} WHERE t.{pk} = v.id"  # noqa: S608
    else:
        row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        assignments = ", ".join(f"{quote(column)} = v.column{i + 2}" for i, column in enumerate(columns))
        template = f"UPDATE {table} SET {assignments} FROM (VALUES {{values}}) AS v WHERE {table}.{pk} = v.column1"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = [value for row in chunk for value in row]
            cursor.execute(template.format(values=", ".join([row_sql] * len(chunk))), params)
