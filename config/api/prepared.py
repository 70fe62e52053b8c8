"""A hot, fixed queryset compiled to SQL once per process instead of on every request.

Compiling a queryset costs Django more CPU than PostgreSQL spends running it when the query is small:
~0.8 ms for a page of a wide model with a join, against ~0.2 ms to run it. `PreparedQuerySet(build)`
stands for `build()`, and answers what a paginated list asks of it, `count()` and `[start:stop]`
(and `list(...)`), from SQL compiled once per slice (a bounded number of them), building the model
instances (with their `select_related` rows) the way Django's own iterator does, then running its
`prefetch_related` lookups as Django would (the same queries). Each call still runs its queries: the
data is always fresh; only the SQL text is reused.

Per-request values (an id, a threshold) are declared with a sample each:
`PreparedQuerySet(lambda owner_id: ..., owner_id=-7_000_001).bind(owner_id=user.pk)`. The query is
compiled once with the samples; each sample must appear exactly once among the SQL's parameters
(else TypeError), and a bound value of the same type takes its place. `build` must not branch on
its values (a different shape: another PreparedQuerySet).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators, prefetch_related_objects

MAX_SHAPES = 256  # compiled slices kept per prepared queryset (pages of a list); beyond: compiled each time


def _positions(params: Any, samples: dict[str, Any]) -> dict[str, int]:
    positions = {}
    for name, sample in samples.items():
        found = [i for i, param in enumerate(params) if type(param) is type(sample) and param == sample]
        if len(found) != 1:
            raise TypeError(f"the sample {name}={sample!r} must appear once among the query's parameters")
        positions[name] = found[0]
    return positions


def _bound_params(params: Any, positions: dict[str, int], values: dict[str, Any]) -> Any:
    if not positions:
        return params
    bound = list(params)
    for name, position in positions.items():
        value = values[name]
        if type(value) is not type(bound[position]):
            raise TypeError(f"{name}={value!r}: a {type(bound[position]).__name__} is expected")
        bound[position] = value
    return bound


class _Compiled:
    """One SELECT's SQL with what turns its rows into model instances (Django's ModelIterable, once)."""

    def __init__(self, queryset: QuerySet[Any], samples: dict[str, Any]) -> None:
        if queryset._known_related_objects:  # type: ignore[attr-defined]
            raise TypeError("a prepared queryset can't carry known related objects")
        self.prefetch = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
        queryset = queryset.prefetch_related(None)
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        try:
            self.sql, self.params = compiler.as_sql()
        except EmptyResultSet:  # e.g. an empty slice: Django runs no query either
            self.sql, self.params = "", ()
        if compiler.has_extra_select:
            raise TypeError("a prepared queryset can't select extra columns (DISTINCT with ordering)")
        self.positions = _positions(self.params, samples) if self.sql else {}
        self.compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.related = get_related_populators(klass_info, select, self.db)  # type: ignore[call-arg]  # 5.2's
        self.annotations = dict(compiler.annotation_col_map or {})
        self.converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])

    def run(self, values: dict[str, Any]) -> list[Any]:
        if not self.sql:
            return []
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, _bound_params(self.params, self.positions, values))
            rows = cursor.fetchall()
        if self.converters:
            rows = list(self.compiler.apply_converters(map(list, rows), self.converters))
        objects = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
            for populator in self.related:
                populator.populate(row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        if self.prefetch:
            prefetch_related_objects(objects, *self.prefetch)
        return objects


class _Count:
    """A queryset's COUNT query as Django ran it once (captured), run again with new values."""

    def __init__(self, queryset: QuerySet[Any], samples: dict[str, Any]) -> None:
        captured: list[tuple[str, Any]] = []

        def capture(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            captured.append((sql, params))
            return execute(sql, params, many, context)

        self.db = queryset.db
        with connections[self.db].execute_wrapper(capture):
            queryset.count()
        if len(captured) != 1:
            raise TypeError("a prepared count must be one query")
        self.sql, self.params = captured[0]
        self.positions = _positions(self.params, samples)

    def run(self, values: dict[str, Any]) -> int:
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, _bound_params(self.params, self.positions, values))
            return int(cursor.fetchone()[0])


class PreparedQuerySet:
    """`build(**values)`'s count, slices and rows, each compiled once (see the module docstring)."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **samples: int | float | str) -> None:
        self.build = build
        self.samples = samples
        self._lock = threading.Lock()
        self._compiled: dict[tuple[int, int] | None, _Compiled] = {}
        self._count: _Count | None = None

    def bind(self, **values: Any) -> BoundQuerySet:
        if values.keys() != self.samples.keys():
            raise TypeError(f"values for {sorted(self.samples)} are expected, not {sorted(values)}")
        return BoundQuerySet(self, values)

    def count(self) -> int:
        return self.bind().count()

    def __getitem__(self, window: slice) -> list[Any]:
        return self.bind()[window]

    def _count_run(self, values: dict[str, Any]) -> int:
        if self._count is None:
            self._count = _Count(self.build(**self.samples), self.samples)
        return self._count.run(values)

    def _run(self, window: slice | None, values: dict[str, Any]) -> list[Any]:
        key = None if window is None else (int(window.start), int(window.stop))
        compiled = self._compiled.get(key)
        if compiled is None:
            queryset = self.build(**self.samples)
            compiled = _Compiled(queryset if window is None else queryset[window], self.samples)
            with self._lock:
                if len(self._compiled) < MAX_SHAPES:
                    self._compiled[key] = compiled
        return compiled.run(values)


class BoundQuerySet:
    """A PreparedQuerySet with this request's values: what Django's Paginator (or a list) asks of it."""

    def __init__(self, prepared: PreparedQuerySet, values: dict[str, Any]) -> None:
        self.prepared, self.values = prepared, values

    def count(self) -> int:
        return self.prepared._count_run(self.values)

    def __getitem__(self, window: slice) -> list[Any]:
        if not isinstance(window, slice) or window.step is not None or window.start is None or window.stop is None:
            raise TypeError("a prepared queryset answers only [start:stop]")
        return self.prepared._run(window, self.values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.prepared._run(None, self.values))
