"""Read-only serializer output without DRF's per-request cost, for the hot read endpoints.

`Representation(SomeSerializer).many(objects)` returns what `SomeSerializer(objects, many=True).data`
returns (the same keys in the same order, the same values), at a fraction of the CPU: DRF builds a
ModelSerializer's fields anew for every serializer instance (a few hundred µs for twenty fields) and
goes through several Python calls per field and row. Here the fields are built once per class and
compiled into a list of (name, read, convert) steps:

- `read` is `operator.attrgetter` when the source is a chain of model fields (foreign keys that
  cannot be null, then a concrete field); anything else (properties, methods, `source="*"`,
  reverse relations) goes through the field's own `get_attribute`;
- `convert` is the builtin DRF's field itself calls (`str`, `int`, `float`), nothing for
  JSONField, a shortcut for UTC datetimes in ISO 8601, and the field's own `to_representation`
  for everything else (decimals, choices, lists, dates, related fields);
- nested serializers (one or many) are compiled the same way; method fields call the method on a
  serializer instance holding the caller's `context`.

The serializer class stays the API's declared shape (drf-spectacular reads it), and
tests/api/test_representation.py checks the output equals DRF's on every serializer that uses this.
A serializer that overrides `to_representation` is refused.
"""

from __future__ import annotations

import datetime
import operator
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework import fields as drf_fields
from rest_framework.generics import ListAPIView
from rest_framework.relations import PKOnlyObject
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.compiled import CompiledRows, compiled

Step = tuple[Any, Any, Any, Any]  # (name, read, convert, nested steps or a method field's holder)
_UTC = datetime.UTC
_BUILTIN_CONVERTERS: dict[Any, Callable[[Any], Any]] = {
    serializers.CharField.to_representation: str,
    serializers.IntegerField.to_representation: int,
    serializers.FloatField.to_representation: float,
}


def _base_to_representation(serializer: serializers.BaseSerializer) -> bool:
    method = type(serializer).to_representation
    return method in (serializers.Serializer.to_representation, serializers.ListSerializer.to_representation)


def _model_path_is_plain(model: Any, attrs: list[str]) -> bool:
    """Whether `attrs` reads model fields only: non-null forward relations, then any field."""
    if model is None or not attrs:
        return False
    for position, attr in enumerate(attrs):
        try:
            field = model._meta.get_field(attr)
        except FieldDoesNotExist:  # a property, a method, or a reverse relation's accessor name
            return False
        if field.auto_created and not field.concrete:  # a reverse relation
            return False
        if position < len(attrs) - 1:
            if not (field.many_to_one or field.one_to_one) or field.null:
                return False
            model = field.related_model
        elif field.many_to_many:
            return False
    return True


_UTC_ZONES = {_UTC, zoneinfo.ZoneInfo("UTC")}


def _utc_datetime(value: Any) -> Any:
    """DRF's ISO 8601 text of an aware UTC datetime while the current zone is UTC (no conversion)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _datetime_converter(field: serializers.DateTimeField) -> Callable[[Any], Any]:
    slow = field.to_representation
    return lambda value: (
        _utc_datetime(value) if value.__class__ is datetime.datetime and value.tzinfo is _UTC else slow(value)
    )


def _bool_converter(field: serializers.BooleanField) -> Callable[[Any], Any]:
    slow = field.to_representation
    return lambda value: value if value.__class__ is bool else slow(value)


def _converter(field: drf_fields.Field, *, utc: bool) -> Callable[[Any], Any] | None:
    method = type(field).to_representation
    if method in _BUILTIN_CONVERTERS:
        return _BUILTIN_CONVERTERS[method]
    if method is serializers.JSONField.to_representation and not getattr(field, "binary", False):
        return None
    if method is serializers.BooleanField.to_representation:
        return _bool_converter(field)  # type: ignore[arg-type]
    if (
        utc
        and method is serializers.DateTimeField.to_representation
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == api_settings.DATETIME_FORMAT
        and (api_settings.DATETIME_FORMAT or "").lower() == ISO_8601
        and not hasattr(field, "timezone")
    ):
        return _datetime_converter(field)  # type: ignore[arg-type]
    return field.to_representation


def _compile(serializer: serializers.Serializer, *, utc: bool) -> list[Step]:
    """The steps of a serializer's output; `utc`: for requests whose current time zone is UTC."""
    if not _base_to_representation(serializer):
        raise TypeError(f"{type(serializer).__name__} overrides to_representation: use the serializer itself")
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    steps: list[Step] = []
    for field in serializer._readable_fields:
        name, attrs = field.field_name, list(field.source_attrs)
        if isinstance(field, serializers.SerializerMethodField):
            steps.append((name, None, field.method_name, type(field.parent)))
            continue
        plain = _model_path_is_plain(model, attrs)
        read = operator.attrgetter(".".join(attrs)) if plain else field.get_attribute
        if isinstance(field, serializers.ListSerializer):
            if not _base_to_representation(field):
                raise TypeError(f"{type(field).__name__} overrides to_representation: use the serializer itself")
            steps.append((name, field.get_attribute, "many", _compile(field.child, utc=utc)))  # type: ignore[arg-type]
        elif isinstance(field, serializers.Serializer):
            steps.append((name, read, "one", _compile(field, utc=utc)))
        else:
            steps.append((name, read, _converter(field, utc=utc), None))
    return steps


def _represent(steps: list[Step], instance: Any, holders: dict[type, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, read, convert, nested in steps:
        if read is None:  # a method field: its serializer's method, with the caller's context
            out[name] = getattr(holders[nested], convert)(instance)
            continue
        try:
            value = read(instance)
        except drf_fields.SkipField:
            continue
        if value is None or (value.__class__ is PKOnlyObject and value.pk is None):
            out[name] = None
        elif nested is None:
            out[name] = value if convert is None else convert(value)
        elif convert == "one":
            out[name] = _represent(nested, value, holders)
        else:
            items = value.all() if isinstance(value, BaseManager) else value
            out[name] = [_represent(nested, item, holders) for item in items]
    return out


class Representation:
    """The output of a read-only serializer class, compiled once (see the module docstring)."""

    def __init__(self, serializer_class: type[serializers.BaseSerializer]) -> None:
        self.serializer_class = serializer_class
        self._steps: dict[bool, list[Step]] = {}
        self._holders: set[type] = set()

    def steps(self) -> list[Step]:
        """The steps for the current time zone: datetimes take a shortcut when it is UTC."""
        utc = timezone.get_current_timezone() in _UTC_ZONES
        steps = self._steps.get(utc)
        if steps is None:
            serializer = self.serializer_class()
            if not isinstance(serializer, serializers.Serializer):
                raise TypeError(f"{self.serializer_class.__name__} is not a Serializer")
            steps = _compile(serializer, utc=utc)
            self._holders = set(_holder_classes(steps))
            self._steps[utc] = steps
        return steps

    def _holders_for(self, context: dict[str, Any] | None) -> dict[type, Any]:
        return {cls: cls(context=context or {}) for cls in self._holders}

    def one(self, instance: Any, *, context: dict[str, Any] | None = None) -> dict[str, Any]:
        steps = self.steps()
        return _represent(steps, instance, self._holders_for(context))

    def many(self, instances: Iterable[Any], *, context: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        steps = self.steps()
        holders = self._holders_for(context)
        return [_represent(steps, instance, holders) for instance in instances]


def _holder_classes(steps: list[Step]) -> Iterable[type]:
    for _name, read, convert, nested in steps:
        if read is None:
            yield nested
        elif convert in ("one", "many"):
            yield from _holder_classes(nested)


_REPRESENTATIONS: dict[type, Representation] = {}


def representation_for(serializer_class: type[serializers.BaseSerializer]) -> Representation:
    """The one Representation of a serializer class (compiled on first use)."""
    found = _REPRESENTATIONS.get(serializer_class)
    if found is None:
        found = _REPRESENTATIONS[serializer_class] = Representation(serializer_class)
    return found


class RepresentedListAPIView(ListAPIView):
    """A ListAPIView whose rows are `Representation(serializer_class)`'s: the same JSON, less CPU; its
    count and pages are compiled once per thread for each distinct query (config/compiled.py)."""

    def representation_context(self, rows: list[Any]) -> dict[str, Any]:
        """The serializer context for one page of rows (a hook: BatchResultsApi adds their results)."""
        return {**self.get_serializer_context()}

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        key = f"{type(self).__module__}.{type(self).__qualname__}"
        page = self.paginate_queryset(CompiledRows(queryset, key=key))  # type: ignore[arg-type]
        rows = list(compiled(queryset, key=key)) if page is None else list(page)
        data = representation_for(self.get_serializer_class()).many(rows, context=self.representation_context(rows))
        return Response(data) if page is None else self.get_paginated_response(data)
