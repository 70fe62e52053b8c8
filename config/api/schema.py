"""OpenAPI post-processing: every operation documents the error answers it can give (DESIGN.md §5.10).

Any request can be refused before its view decides anything: bad input or a malformed body (400), no or
bad credentials (401), a missing right or scope (403), an unknown id (404), a body over the caps (413),
a content type the operation doesn't read (415), a throttle (429). Those answers, and every other 4xx/5xx
an operation declares, are documented with the one error shape (`Error`), so clients and schemathesis
can rely on the schema. An operation's own description of an error status is kept.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework import serializers


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, truthful about the blank values of blank-able model columns.

    DRF drops `allow_blank` from a ModelSerializer field listed in `read_only_fields`, so a choice field's
    enum would leave out the "" such a column holds (e.g. a listing's unknown salary period), and a URL or
    email column's `format` would reject its "" (a listing without a link): the answer would violate its
    own schema. Such fields are described as allowing "".
    """

    def _map_serializer_field(self, field: serializers.Field, direction: str, bypass_extensions: bool = False) -> Any:
        if isinstance(field, serializers.ChoiceField) and _allows_blank(field):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _insert_field_validators(self, field: serializers.Field, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        is_link = isinstance(field, serializers.URLField | serializers.EmailField)
        if is_link and schema.get("format") and _allows_blank(field):
            schema["anyOf"] = [{"format": schema.pop("format")}, {"maxLength": 0}]


def _allows_blank(field: serializers.Field) -> bool:
    if getattr(field, "allow_blank", False):
        return True
    return bool(field.read_only and _model_column_is_blank(field))


def _model_column_is_blank(field: serializers.Field) -> bool:
    parent, source = field.parent, field.source or ""
    if not isinstance(parent, serializers.ModelSerializer) or not source or "." in source or source == "*":
        return False
    model: Any = parent.Meta.model
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return False
    return bool(getattr(model_field, "blank", False))


ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": 'Every error answer: `{"error": {"code", "message", "detail"}}`. `code` is stable (see the '
    "README's list), `message` is for people, `detail` is null or structured (e.g. per-field messages).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code, e.g. validation_error."},
                "message": {"type": "string", "description": "What went wrong, for people."},
                "detail": {"nullable": True, "description": "Per-field messages or other structured detail."},
            },
            "required": ["code", "message", "detail"],
        }
    },
    "required": ["error"],
}
COMMON_ERRORS = {
    "400": "Invalid input or a malformed request body (`validation_error`, `parse_error`, `json_too_deep`, ...).",
    "401": "Not authenticated: no or invalid credentials (`not_authenticated`, `authentication_failed`).",
    "403": "Not allowed: not staff, or the API key lacks the scope (`permission_denied`, `insufficient_scope`).",
    "404": "No such object, or not yours (`not_found`).",
    "413": "The request body is larger than allowed (`request_too_large`).",
    "429": "Too many requests (`rate_limited`); Retry-After says when to come back.",
}
BODY_ERRORS = {"415": "The request's content type is not one this operation reads (`unsupported_media_type`)."}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}


def postprocess_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the common error answers and the error shape."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            statuses = {**COMMON_ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
            for status, description in statuses.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if not str(status).isdigit() or int(status) < 400:
                    continue
                if not response.get("content"):
                    response["content"] = _error_content()
                if status in ("429", "503"):
                    headers = response.setdefault("headers", {})
                    for name, header in RETRY_AFTER.items():
                        headers.setdefault(name, header)
    return result
