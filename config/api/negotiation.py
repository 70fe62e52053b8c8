"""DRF's content negotiation, with its answer for the usual request given without parsing anything.

The API renders JSON only. A request with no `Accept` header, `*/*` or `application/json`, and no
`?format=` or format suffix, gets what DRF's negotiation would pick for it (the first renderer, when it
renders `application/json`, with that media type); anything else goes through DRF's own code (its 406
for an `Accept` the API cannot answer, its 404 for an unknown format).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

_PLAIN_ACCEPT = frozenset({"*/*", "application/json"})
_JSON = "application/json"


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        if (
            renderers
            and renderers[0].media_type == _JSON
            and not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*") in _PLAIN_ACCEPT
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], _JSON
        found: Any = super().select_renderer(request, renderers, format_suffix)
        return found
