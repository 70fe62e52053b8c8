"""OpenAI-shaped error responses.

Contract: every error body is ``{"error": {"message", "type", "param", "code"}}``
like api.openai.com, except Azure's own gateway errors (:class:`AzureError`:
``{"error": {"code", "message"}}``); :class:`SimError` carries the status, body
and extra headers and is raised anywhere inside the simulator to short-circuit a request.
"""

from __future__ import annotations

import math
from typing import Any

import httpx2


class SimError(Exception):
    """An HTTP error answer of the simulator (raised, then rendered by ``handle``)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - mirrors the OpenAI field name
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        outcome: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = dict(headers or {})
        self.outcome = outcome or str(status)

    def body(self) -> dict[str, Any]:
        """The JSON error envelope."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def to_response(self) -> httpx2.Response:
        """Render as an ``httpx2.Response``."""
        return httpx2.Response(self.status, json=self.body(), headers=self.headers)


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> SimError:
    """400 invalid_request_error."""
    return SimError(400, message, param=param, code=code)


def not_found(message: str, *, code: str | None = None, param: str | None = None) -> SimError:
    """404 invalid_request_error."""
    return SimError(404, message, code=code, param=param)


def invalid_url(method: str, path: str) -> SimError:
    """404 for unknown routes, worded like OpenAI."""
    return not_found(f"Invalid URL ({method} {path})")


def invalid_api_key(key: str | None) -> SimError:
    """401 ``invalid_api_key`` (key masked like OpenAI does)."""
    if not key:
        return SimError(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header "
            "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            code="invalid_api_key",
        )
    masked = f"{key[:4]}{'*' * 4}{key[-4:]}" if len(key) > 8 else f"{key[:2]}****"
    return SimError(
        401,
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def server_error(status: int = 500) -> SimError:
    """5xx ``server_error`` with OpenAI's usual wording per status."""
    messages = {
        500: "The server had an error while processing your request. Sorry about that!",
        502: "Bad gateway.",
        503: "The engine is currently overloaded, please try again later.",
        504: "Gateway timeout.",
    }
    return SimError(status, messages.get(status, "Internal server error."), type="server_error", outcome=str(status))


def rate_limited(
    *,
    model: str,
    kind: str,
    retry_after_ms: int,
    limit: int | None = None,
    used: int | None = None,
    requested: int | None = None,
    headers: dict[str, str] | None = None,
) -> SimError:
    """429 ``rate_limit_exceeded`` with ``retry-after-ms`` and ``retry-after`` headers.

    ``kind`` is ``"requests"`` or ``"tokens"`` (also used as the error ``type``).
    """
    unit = "requests per min (RPM)" if kind == "requests" else "tokens per min (TPM)"
    detail = f": Limit {limit}, Used {used}, Requested {requested}" if limit is not None else ""
    message = (
        f"Rate limit reached for {model} in organization org-simulator on {unit}{detail}. "
        f"Please try again in {retry_after_ms}ms. Visit https://platform.openai.com/account/rate-limits "
        "to learn more."
    )
    all_headers = {
        **(headers or {}),
        "retry-after-ms": str(retry_after_ms),
        "retry-after": str(max(1, math.ceil(retry_after_ms / 1000))),
    }
    return SimError(429, message, type=kind, code="rate_limit_exceeded", headers=all_headers, outcome="429")


def insufficient_quota() -> SimError:
    """429 ``insufficient_quota`` (no retry-after: retrying will not help)."""
    return SimError(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more information "
        "on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type="insufficient_quota",
        code="insufficient_quota",
        outcome="insufficient_quota",
    )


def missing_param(param: str) -> SimError:
    """400 ``missing_required_parameter`` for ``param``."""
    return bad_request(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def invalid_value(param: str, detail: str) -> SimError:
    """400 ``invalid_value`` for ``param``."""
    return bad_request(f"Invalid '{param}': {detail}", param=param, code="invalid_value")


class AzureError(SimError):
    """An error from Azure's gateway rather than the model service: ``{"error": {"code", "message"}}``."""

    def body(self) -> dict[str, Any]:
        """Azure's envelope (no ``type`` or ``param``)."""
        return {"error": {"code": self.code, "message": self.message}}


def azure_unauthorized() -> AzureError:
    """401 for a missing or wrong ``api-key`` header, worded like Azure."""
    return AzureError(
        401,
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
        "for an active subscription and use a correct regional API endpoint for your resource.",
        code="401",
    )


def azure_resource_not_found() -> AzureError:
    """404 for a path Azure does not serve (or a missing ``api-version``)."""
    return AzureError(404, "Resource not found", code="404")


def azure_deployment_not_found() -> AzureError:
    """404 ``DeploymentNotFound`` for an unknown deployment name."""
    return AzureError(
        404,
        "The API deployment for this resource does not exist. If you created the deployment within the last "
        "5 minutes, please wait a moment and try again.",
        code="DeploymentNotFound",
    )
