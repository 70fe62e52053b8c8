"""Bounds for serializer fields that feed database columns (PostgreSQL refuses a value past its column's
range with a DataError; the serializer's `max_value` makes it a 400 instead)."""

DB_INT_MAX = 2**31 - 1  # IntegerField, PositiveIntegerField
DB_BIGINT_MAX = 2**63 - 1  # BigIntegerField, BigAutoField (every primary key here)
