"""The API's JSON renderer: the last line of defence for text that was stored before it was cleaned.

Input is cleaned by the parsers, but a row written by an older version, a command or a model may still
hold a lone surrogate (UTF-8 can't encode it) or a non-finite float (JSON has none). Such an answer is
rendered with those values cleaned (surrogates and control characters dropped, NaN/inf as null) rather
than failing with a 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rest_framework import renderers
from rest_framework.utils import encoders

from config.text import data_clean


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except ValueError:  # UnicodeEncodeError, or "Out of range float values are not JSON compliant"
            cleaned = _finite(data_clean(_plain(data)))
        return super().render(cleaned, accepted_media_type, renderer_context)


def _plain(data: Any) -> Any:
    """Serializer output (ReturnDict/ReturnList, OrderedDict, lazy strings) as plain JSON values."""
    return json.loads(json.dumps(data, cls=encoders.JSONEncoder, allow_nan=True))
