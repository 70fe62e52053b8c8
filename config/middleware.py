"""Site-wide response headers that no library sets for us, django-csp's header built once per process,
and Django's session, authentication and messages middleware made to step aside for API calls that
bring their own credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django_prometheus import middleware as prometheus_middleware


class PermissionsPolicyMiddleware:
    """Adds `Permissions-Policy` (settings.PERMISSIONS_POLICY) to every answer that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY and not response.has_header("Permissions-Policy"):
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response


# A response that carries any of these (django-csp's decorators set them) gets its policy built for it.
_PER_RESPONSE_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_CSP_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "DEBUG")
_policies: list[tuple[str, str, str, tuple[str, ...]]] | None = None


def _settings_policies() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(header, policy, exemption attribute, excluded path prefixes) for the policies the settings give."""
    global _policies
    if _policies is None:
        found = []
        for header, setting, exempt, report_only in (
            (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
        ):
            policy = build_policy(report_only=report_only)
            if policy:
                prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
                found.append((header, policy, exempt, tuple(prefixes)))
        _policies = found
    return _policies


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    global _policies
    if setting in _CSP_SETTINGS:
        _policies = None


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's, with the policy of the settings built once per process instead of twice a response.

    A response with a policy of its own (`@csp_update` and the like) or a request that used its nonce
    goes through django-csp's own code; every other answer gets the same header text it would build.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or (settings.DEBUG and response.status_code in (404, 500))
            or any(getattr(response, name, None) is not None for name in _PER_RESPONSE_POLICY)
        ):
            return super().process_response(request, response)
        for header, policy, exempt, prefixes in _settings_policies():
            if (
                header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


class PrometheusAfterMiddleware(prometheus_middleware.PrometheusAfterMiddleware):
    """django-prometheus', each labelled counter looked up once per process instead of ~8 times a request.

    `metric.labels(...)` returns the same child for the same label values (under a lock, after checking
    them); the children are kept here by metric and values, so the counts are the same ones.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._children: dict[tuple[Any, ...], Any] = {}

    def label_metric(self, metric: Any, request: HttpRequest, response: Any = None, **labels: Any) -> Any:
        if not labels:
            return metric
        key = (metric, *labels.items())
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(**labels)
        return child


def api_call_with_credentials(request: HttpRequest) -> bool:
    """A call under /api/ that authenticates itself (a token or an API key) and sends no cookie.

    For such a call the session, authentication and messages middleware have nothing to do: it has no
    session to load, DRF's token or key authentication sets the user (DRF's session authentication is
    never reached: those two come first and answer or refuse), and the API sends no messages.
    """
    found = getattr(request, "_api_credentials", None)
    if found is None:
        meta = request.META
        found = (
            not meta.get("HTTP_COOKIE")
            and ("HTTP_X_API_KEY" in meta or meta.get("HTTP_AUTHORIZATION", "").startswith("Token "))
            and request.path_info.startswith("/api/")
        )
        request._api_credentials = found  # type: ignore[attr-defined]
    return found


class SessionMiddleware(sessions_middleware.SessionMiddleware):
    """Django's, skipped for an API call with its own credentials (no cookie: an empty session)."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if not self.async_mode and api_call_with_credentials(request):
            return self.get_response(request)
        return super().__call__(request)


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's; an API call with its own credentials starts anonymous, as it would with no session,
    until DRF's authentication sets its user."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if not self.async_mode and api_call_with_credentials(request):
            request.user = AnonymousUser()
            return self.get_response(request)
        return super().__call__(request)


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's, skipped for an API call with its own credentials (the API sends no messages)."""

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if not self.async_mode and api_call_with_credentials(request):
            return self.get_response(request)
        return super().__call__(request)
