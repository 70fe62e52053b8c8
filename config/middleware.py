"""Site-wide response headers that no library sets for us, and Django's session, authentication and
messages middleware made to step aside for API calls that bring their own credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase


class PermissionsPolicyMiddleware:
    """Adds `Permissions-Policy` (settings.PERMISSIONS_POLICY) to every answer that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY and not response.has_header("Permissions-Policy"):
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response


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
