"""Query parameters validated by their serializer, the answer remembered per process for the same query.

A read endpoint validates its query string with a plain DRF Serializer on every request, which builds
the serializer's fields anew each time (a deep copy of each declared field) before running them: about
a tenth of a small read's CPU. For a serializer whose answer depends on the query string alone, the
answer is remembered:

    params = query_params_validated(JobListingQuerySerializer, request.query_params)  # validated_data

The serializer still decides: a query seen for the first time (or after `MAX_QUERIES` others) goes
through `serializer_class(data=...).is_valid(raise_exception=True)`, and an invalid one raises its
ValidationError every time (errors are never remembered). "Alone" is checked once per class: only
CharField, IntegerField, FloatField, BooleanField, ChoiceField and DateTimeField (the current time
zone is part of the key), with constant defaults (text, numbers, None, dates), Django's and DRF's
value validators, and no `validate`/`validate_<field>` method; any other serializer is validated on
every call as before. Each call gets its own copy of the answer.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core import validators as django_validators
from django.utils import timezone
from rest_framework import fields, serializers
from rest_framework import validators as drf_validators

MAX_QUERIES = 1024

_PURE_FIELDS = (
    fields.CharField,
    fields.IntegerField,
    fields.FloatField,
    fields.BooleanField,
    fields.ChoiceField,
    fields.DateTimeField,
)
_PURE_VALIDATORS = (
    django_validators.MinValueValidator,
    django_validators.MaxValueValidator,
    django_validators.MinLengthValidator,
    django_validators.MaxLengthValidator,
    django_validators.ProhibitNullCharactersValidator,
    drf_validators.ProhibitSurrogateCharactersValidator,
)
# Defaults handed out as they are: nothing a caller could change in place.
_CONSTANT_DEFAULTS = (str, int, float, bool, type(None), datetime.datetime, datetime.date)
_pure: dict[type, bool] = {}
_answers: dict[tuple[Any, ...], dict[str, Any]] = {}


def _field_is_pure(name: str, field: fields.Field) -> bool:
    if type(field) not in _PURE_FIELDS or field.source != name:
        return False
    if field.default is not fields.empty and not isinstance(field.default, _CONSTANT_DEFAULTS):
        return False
    if not all(type(check) in _PURE_VALIDATORS for check in field.validators):
        return False
    return not (isinstance(field, fields.DateTimeField) and getattr(field, "timezone", None) is not None)


def serializer_is_pure(serializer_class: type[serializers.Serializer]) -> bool:
    """Whether the class's validated data depends on the query (and the current time zone) alone."""
    found = _pure.get(serializer_class)
    if found is None:
        serializer = serializer_class()
        found = (
            type(serializer).validate is serializers.Serializer.validate
            and type(serializer).to_internal_value is serializers.Serializer.to_internal_value
            and type(serializer).run_validation is serializers.Serializer.run_validation
            and not getattr(getattr(serializer, "Meta", None), "validators", None)
            and all(
                _field_is_pure(name, field) and not hasattr(serializer, f"validate_{name}")
                for name, field in serializer.fields.items()
            )
        )
        _pure[serializer_class] = found
    return found


def _validated(serializer_class: type[serializers.Serializer], query_params: Mapping[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def query_params_validated(
    serializer_class: type[serializers.Serializer], query_params: Mapping[str, Any]
) -> dict[str, Any]:
    """`serializer_class(data=query_params)`'s validated data, or its ValidationError (module doc)."""
    if not serializer_is_pure(serializer_class):
        return _validated(serializer_class, query_params)
    lists = query_params.lists() if hasattr(query_params, "lists") else ((k, [v]) for k, v in query_params.items())
    key = (
        serializer_class,
        timezone.get_current_timezone_name(),
        tuple((name, tuple(values)) for name, values in lists),
    )
    answer = _answers.get(key)
    if answer is None:
        answer = _validated(serializer_class, query_params)
        if len(_answers) >= MAX_QUERIES:
            _answers.clear()
        _answers[key] = answer
    return dict(answer)
