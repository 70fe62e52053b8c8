"""The API boundary (DESIGN.md §5.10), for every request under `/api/`, before and after the views.

Before: a body larger than the API accepts is refused with a JSON 413 before anything reads it (JSON and
forms: `DATA_UPLOAD_MAX_MEMORY_SIZE`; multipart uploads: `API_MAX_UPLOAD_BYTES`, each upload endpoint then
applies its own smaller cap); a path holding NUL or control characters is a JSON 400 (no lookup could
match it, and PostgreSQL refuses NUL); query parameters are cleaned like bodies (config.text).
After: any error answer that is not JSON (Django's CSRF or 405 pages, a handler's HTML) becomes the API's
error shape with the same status; answers get `Cache-Control: private, no-store` (they hold a person's
data or an operator's view of it) unless the view chose otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control

from config.api.errors import error_body, error_response_for_status, is_api_request
from config.api.exceptions import RequestTooLarge
from config.api.parsers import querydict_clean
from config.text import text_is_clean

# Headers of an error page that still mean something once it is JSON.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Vary")


def _body_limit(request: HttpRequest) -> int:
    if request.content_type == "multipart/form-data":
        return settings.API_MAX_UPLOAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _refusal(request: HttpRequest) -> HttpResponse | None:
    try:
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return error_response_for_status(400, "The Content-Length header is not a number.")
    limit = _body_limit(request)
    if content_length > limit:
        exc = RequestTooLarge(limit=limit)
        detail = {"content_length": content_length, "max_bytes": limit}
        return JsonResponse(error_body(code=exc.default_code, message=str(exc.detail), detail=detail), status=413)
    if not text_is_clean(request.path):
        return error_response_for_status(400, "The path holds NUL or control characters.")
    return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith(("/json", "+json"))


def _as_json(response: HttpResponse) -> HttpResponse:
    json_response = error_response_for_status(response.status_code)
    for header in KEPT_HEADERS:
        if response.has_header(header):
            json_response[header] = response[header]
    return json_response


class ApiBoundaryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        response = _refusal(request)
        if response is None:
            request.GET = querydict_clean(request.GET)
            response = self.get_response(request)
            if response.status_code >= 400 and not _is_json(response):
                response = _as_json(response)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
