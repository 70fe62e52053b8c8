"""One exception handler: every API error is `{"error": {"code", "message", "detail"}}`."""

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError


def error_body(*, code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain and DRF exceptions to the stable error shape; anything else stays a 500."""
    if isinstance(exc, DomainError):
        response = Response(error_body(code=exc.code, message=exc.message, detail=exc.detail), status=exc.status_code)
        # A 429 says when to come back; so may a 503 (RFC 9110 §10.2.3), e.g. an open LLM breaker.
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    if isinstance(exc, exceptions.ValidationError):
        code, message, detail = "validation_error", "The request is invalid.", response.data
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        message, detail = str(exc.detail), None
        if isinstance(exc, exceptions.Throttled):
            code, detail = "rate_limited", {"retry_after": exc.wait}
    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
    response.data = error_body(code=code, message=message, detail=detail)
    return response
