"""Request parsers that make hostile bodies a clear 4xx (DESIGN.md §5.10).

- JSON: the body is read up to `DATA_UPLOAD_MAX_MEMORY_SIZE` (more: 413), must be UTF-8 text, nest no
  deeper than `API_MAX_JSON_DEPTH` (deeper: 400 `json_too_deep`, never a RecursionError) and hold only
  finite numbers (`1e999`, NaN: 400 `invalid_number`).
- JSON, forms and multipart: every string and key is cleaned by `config.text.text_clean` (NUL, lone
  surrogates, control characters removed), so nothing below meets text PostgreSQL or UTF-8 refuses.
- Django's own limits met while parsing a form (too large, too many fields or files) become 413/400.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from config.api.exceptions import RequestTooLarge
from config.text import data_clean, data_depth, text_clean

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ParseError(f"The number {literal[:40]} is out of range.", code="invalid_number")
    return value


def _no_constant(literal: str) -> Any:
    raise ParseError(f"{literal} is not valid JSON.", code="invalid_number")


def _read_capped(stream: Any, limit: int) -> bytes:
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise RequestTooLarge(limit=limit)
    return body


def json_loads_bounded(body: bytes | str) -> Any:
    """Parse JSON text under the API's limits (depth, finite numbers), then clean its strings and keys."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise ParseError("The JSON body is not valid UTF-8.", code="invalid_encoding") from exc
    max_depth = settings.API_MAX_JSON_DEPTH
    try:
        data = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ParseError(f"The JSON nests deeper than {max_depth} levels.", code="json_too_deep") from exc
    except ValueError as exc:  # JSONDecodeError, and integers past Python's digit limit
        raise ParseError(f"JSON parse error - {str(exc)[:200]}", code="parse_error") from exc
    if data_depth(data) > max_depth:
        raise ParseError(f"The JSON nests deeper than {max_depth} levels.", code="json_too_deep")
    return data_clean(data)


def querydict_clean(data: QueryDict) -> _ImmutableQueryDict:
    """A copy of a form's QueryDict with every key and value cleaned."""
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        cleaned.setlist(text_clean(key), [text_clean(v) if isinstance(v, str) else v for v in values])
    cleaned._mutable = False
    return cast("_ImmutableQueryDict", cleaned)


def _form_error(exc: SuspiciousOperation) -> Exception:
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ParseError("The form has too many fields or files.", code="too_many_fields")
    return ParseError("The request body is malformed.", code="parse_error")


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        # Refuses non-text charsets, as DRF does (get_encoding is missing from the stubs).
        parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        return json_loads_bounded(_read_capped(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


class FormParser(parsers.FormParser):
    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> _ImmutableQueryDict:
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]  # not in the stubs
        body = _read_capped(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        try:
            return querydict_clean(QueryDict(body, encoding=encoding))
        except SuspiciousOperation as exc:
            raise _form_error(exc) from exc


class MultiPartParser(parsers.MultiPartParser):
    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> parsers.DataAndFiles:
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except SuspiciousOperation as exc:
            raise _form_error(exc) from exc
        for _field, uploads in parsed.files.lists():
            for uploaded in uploads:
                if uploaded.name:
                    uploaded.name = text_clean(uploaded.name)
        return parsers.DataAndFiles(querydict_clean(parsed.data), parsed.files)
