"""Hot read queries compiled to SQL once per thread instead of on every request.

Django compiles a queryset to SQL each time it runs it: ~0.3 ms of CPU a query here, a quarter of an
API read's CPU (`python loadtests/cpu.py`). A read endpoint runs the same few queries over and over
with the same values (a person polls their own matches, pages through the same listings), so:

    rows = list(compiled(queryset, key="jobs.list"))      # model instances, as iterating `queryset`
    total = compiled_count(queryset, key="jobs.list")     # as `queryset.count()`
    first = compiled_first(queryset, key="emails.one")    # as `queryset.first()`

The cache key is `key` (the code path that built the queryset) plus everything in the query that
carries a value or shapes the SQL: the model, the WHERE tree with its values (Django's expressions
compare and hash by value), ordering, LIMIT/OFFSET, DISTINCT, select_related, deferred fields,
annotations, and the database alias and current time zone. Equal queries give equal SQL, so a hit
can never answer with another person's rows: a different user id, page or filter is a different
key. A query whose parts cannot be hashed, or that uses `extra()` or a set operation, is simply run
the usual way. One limit: values equal in Python are one key even where a text column would read them
differently (1, 1.0 and True against a CharField): give a text field text, as the API's callers do.

On a miss, Django's own compiler compiles the query and is kept (per thread: a compiler is bound to
its thread's connection); on a hit the queryset is answered by that compiler, whose `as_sql` returns
the text and parameters it compiled, and whose `get_converters` answers the result converters it
looked up once for its columns. Django's iterator does the rest as always (applying converters,
select_related, prefetch_related, known related objects), through the normal cursor. Anything chained
on a compiled queryset (`.filter()`, a slice) is a plain queryset again. `COMPILED_QUERIES=false`
turns it off; each thread keeps at most `COMPILED_QUERIES_MAX` compiled queries (oldest dropped).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.sql.query import Query
from django.utils import timezone

M = TypeVar("M", bound=Model)

_local = threading.local()


def _frozen(value: Any) -> Any:
    """select_related's nested dicts as nested tuples (hashable)."""
    if isinstance(value, dict):
        return tuple(sorted((name, _frozen(inner)) for name, inner in value.items()))
    return value


def _query_key(query: Query) -> tuple[Any, ...] | None:
    """What makes this query's SQL and parameters what they are, or None when it can't be told."""
    if query.extra or query.combinator or query.extra_tables or query.extra_order_by:
        return None
    deferred_names, deferred = query.deferred_loading
    key = (
        query.model,
        query.where,
        tuple(query.order_by),
        query.standard_ordering,
        query.default_ordering,
        query.low_mark,
        query.high_mark,
        query.distinct,
        tuple(query.distinct_fields),
        _frozen(query.select_related),
        frozenset(deferred_names),
        deferred,
        tuple(query.annotations.items()),
        frozenset(query.annotation_select_mask or ()),
        tuple(query.values_select),
        query.select_for_update,
    )
    try:
        hash(key)
    except TypeError:  # a value in the WHERE tree that can't be hashed
        return None
    return key


def _cache() -> dict[Hashable, Any]:
    cache = getattr(_local, "compiled", None)
    if cache is None:
        cache = _local.compiled = {}
    return cache


def _remember(cache: dict[Hashable, Any], key: Hashable, value: Any) -> None:
    if len(cache) >= settings.COMPILED_QUERIES_MAX:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _cache_key(queryset: QuerySet[Any], key: str, kind: str) -> tuple[Any, ...] | None:
    if not settings.COMPILED_QUERIES:
        return None
    query_key = _query_key(queryset.query)
    if query_key is None:
        return None
    return (key, kind, queryset.db, timezone.get_current_timezone_name(), query_key)


class _CompiledQuery(Query):
    """A query answered by a compiler kept from an equal query on this thread (see the module doc)."""

    compiled: Any  # the backend's SQLCompiler, its `as_sql` answering the SQL it compiled

    def get_compiler(self, using: Any = None, connection: Any = None, elide_empty: bool = True) -> Any:
        if connection is None and using is not None and connections[using] is self.compiled.connection:
            return self.compiled
        return super().get_compiler(using, connection, elide_empty)

    def clone(self) -> Query:
        """Anything built on a compiled query (a filter, a slice) is compiled anew."""
        plain = super().clone()
        plain.__class__ = Query
        del plain.__dict__["compiled"]
        return plain


def _keep_converters(compiler: Any) -> None:
    """The kept compiler answers its own columns' result converters without looking them up again.

    Django looks each selected column's converters up (backend and field) on every run of a query.
    They depend only on the columns, fixed once the compiler compiled its query, and on the
    compiler's connection, which a kept compiler never changes (it is used only on that connection:
    `_CompiledQuery.get_compiler`). Any other list of expressions (a composite key's columns) is
    looked up as usual.
    """
    look_up = compiler.get_converters
    columns = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
    known = look_up(columns)

    def get_converters(expressions: list[Any]) -> dict[int, Any]:
        if len(expressions) == len(columns) and all(
            given is kept for given, kept in zip(expressions, columns, strict=True)
        ):
            return known
        return cast(dict[int, Any], look_up(expressions))

    compiler.get_converters = get_converters


def compiled(queryset: QuerySet[M], *, key: str) -> QuerySet[M]:
    """`queryset`, answered with SQL compiled once per thread for an equal query (module doc)."""
    cache_key = _cache_key(queryset, key, "rows")
    if cache_key is None:
        return queryset
    cache = _cache()
    compiler = cache.get(cache_key)
    answered = queryset.all()
    if compiler is None:
        compiler = answered.query.get_compiler(using=answered.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return queryset
        # The compiler keeps what Django's iterator reads after running it (select, klass_info,
        # annotation_col_map); only the SQL is not made again.
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        _keep_converters(compiler)
        _remember(cache, cache_key, compiler)
    query = cast(_CompiledQuery, answered.query.chain(klass=_CompiledQuery))
    query.compiled = compiler
    answered.query = query
    return answered


def compiled_first(queryset: QuerySet[M], *, key: str) -> M | None:
    """`queryset.first()` through `compiled`: the first row in its order (by primary key if none)."""
    ordered = queryset if queryset.ordered else queryset.order_by("pk")
    rows = list(compiled(ordered[:1], key=key))
    return rows[0] if rows else None


def compiled_count(queryset: QuerySet[Any], *, key: str) -> int:
    """`queryset.count()`, with the COUNT's SQL compiled once per thread for an equal query."""
    query = queryset.query
    if query.is_sliced or query.annotations or query.distinct_fields:
        return queryset.count()
    cache_key = _cache_key(queryset, key, "count")
    if cache_key is None:
        return queryset.count()
    cache = _cache()
    statement = cache.get(cache_key)
    if statement is None:
        counted = queryset.order_by().values_list("pk")
        try:
            sql, params = counted.query.get_compiler(using=queryset.db).as_sql()
        except EmptyResultSet:
            return queryset.count()
        statement = (f'SELECT COUNT(*) FROM ({sql}) "counted"', params)  # noqa: S608 - Django's SQL; values are bound
        _remember(cache, cache_key, statement)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchone()[0]


class CompiledRows:
    """A queryset as Django's Paginator reads it (`count()`, slices), each through `compiled`."""

    def __init__(self, queryset: QuerySet[Any], *, key: str) -> None:
        self.queryset = queryset
        self.key = key
        self.ordered = queryset.ordered
        self.model = queryset.model

    def count(self) -> int:
        return compiled_count(self.queryset, key=self.key)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Any]:
        return list(compiled(self.queryset[window], key=self.key))
