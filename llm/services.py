"""Services of the llm app itself: the data dictionary (field descriptions for models' fields)."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from llm.fields import FIELD_DESCRIPTION, FieldInput
from llm.runtime import ProgressCallback, run_many

SAMPLE_ROWS = 3


def _data_type(field: models.Field) -> str:
    return field.get_internal_type().removesuffix("Field").lower() or "unknown"


def _semantic_type(field: models.Field) -> str | None:
    if isinstance(field, models.EmailField):
        return "email_address"
    if isinstance(field, models.URLField):
        return "url"
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DateField):
        return "date"
    if field.primary_key or isinstance(field, models.ForeignKey):
        return "identifier"
    if isinstance(field, models.DecimalField) and "price" in field.name:
        return "currency"
    return None


def data_dictionary_inputs(*, model_labels: list[str]) -> list[FieldInput]:
    """One field-description input per concrete field, with a few real sample values."""
    inputs: list[FieldInput] = []
    for label in model_labels:
        model = apps.get_model(label)
        fields = [f for f in model._meta.concrete_fields]
        samples = list(model._default_manager.order_by("pk").values_list(*[f.attname for f in fields])[:SAMPLE_ROWS])
        for index, field in enumerate(fields):
            values = [str(row[index])[:80] for row in samples if row[index] not in (None, "")]
            inputs.append(
                FieldInput(
                    field_path=f"{model._meta.label_lower}.{field.name}",
                    field_name=field.name,
                    data_type=_data_type(field),
                    semantic_type=_semantic_type(field),
                    sample_values=values,
                )
            )
    return inputs


def data_dictionary_generate(
    *, model_labels: list[str], on_progress: ProgressCallback | None = None
) -> list[dict[str, object]]:
    """Describe every field of the given models (bulk mode); each entry says if it is a fallback."""
    inputs = data_dictionary_inputs(model_labels=model_labels)
    outcomes = run_many(FIELD_DESCRIPTION, inputs, on_progress=on_progress)
    return [
        {
            "field": outcome.task_input.field_path,
            "data_type": outcome.task_input.data_type,
            "business_name": outcome.result.output.business_name if outcome.result else "",
            "description": outcome.result.output.description if outcome.result else "",
            "is_fallback": outcome.result.is_fallback if outcome.result else True,
            "error": outcome.error,
        }
        for outcome in outcomes
    ]
