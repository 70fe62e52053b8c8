"""One error shape for every API answer: `{"error": {"code", "message", "detail"}}` (DESIGN.md §5.10).

- `exception_handler` (DRF's EXCEPTION_HANDLER) maps domain errors, DRF errors and the Django errors a
  request body can raise while it is parsed (too large, too many fields, a value out of its column's range)
  to that shape with a stable `code`.
- `bad_request`, `permission_denied`, `page_not_found` and `server_error` are Django's handler400/403/404/500:
  under `/api/` they answer the same shape; elsewhere (admin, tracking links) Django's own pages.
- `error_response_for_status` gives the shape for a bare status (config.api.middleware uses it to turn any
  non-JSON error page under `/api/` into JSON).
"""

from __future__ import annotations

import logging
import math
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from config.api.exceptions import RequestTooLarge
from config.errors import DomainError

logger = logging.getLogger("contentops.api")

API_PREFIX = "/api/"
# The stable code of an error answered without a more specific one, by HTTP status.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


def error_body(*, code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_code_for_status(status_code: int) -> str:
    return STATUS_CODES.get(status_code, "server_error" if status_code >= 500 else "error")


def error_response_for_status(status_code: int, message: str | None = None) -> JsonResponse:
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Error"
    body = error_body(code=error_code_for_status(status_code), message=message or f"{phrase}.")
    return JsonResponse(body, status=status_code)


def _django_error(exc: Exception) -> exceptions.APIException | None:
    """The DRF exception for a Django one a request can cause, or None."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError("The form has too many fields or files.", code="too_many_fields")
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError("The request is malformed.", code="bad_request")
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, DataError):
        # A value the database refuses (out of its column's range, a NUL byte): the input's fault. The
        # serializers bound what they accept; this keeps anything they miss a 400, and says so in the log.
        logger.warning("database refused a value from a request: %s", str(exc).splitlines()[0][:200])
        return exceptions.ValidationError({"non_field_errors": ["A value is out of range or not storable."]})
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain, DRF and request-level Django exceptions to the stable error shape; others stay 500s."""
    response: Response | None
    if isinstance(exc, DomainError):
        set_rollback()
        response = Response(error_body(code=exc.code, message=exc.message, detail=exc.detail), status=exc.status_code)
        # A 429 says when to come back; so may a 503 (RFC 9110 §10.2.3), e.g. an open LLM breaker.
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response

    exc = _django_error(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    if isinstance(exc, exceptions.ValidationError):
        code, message, detail = "validation_error", "The request is invalid.", response.data
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else error_code_for_status(response.status_code)
        message, detail = str(exc.detail), None
        if isinstance(exc, exceptions.Throttled):
            code, detail = "rate_limited", {"retry_after": exc.wait}  # type: ignore[attr-defined]  # set in __init__
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
    response.data = error_body(code=code, message=message, detail=detail)
    return response


# --- Django's error handlers (config.urls: handler400/403/404/500) ----------------------------------


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    api_exc = _django_error(exception) or exceptions.ParseError("The request is malformed.", code="bad_request")
    response = exception_handler(api_exc, {"request": request, "view": None})
    assert response is not None  # noqa: S101 - an APIException always maps
    return JsonResponse(response.data, status=response.status_code)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api_request(request):
        return defaults.permission_denied(request, exception)
    return error_response_for_status(403, "You do not have permission to perform this action.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    return error_response_for_status(404, "No API endpoint at this path.")


def server_error(request: HttpRequest) -> HttpResponse:
    if not is_api_request(request):
        return defaults.server_error(request)
    return error_response_for_status(500, "The server failed to answer; the error is logged.")
