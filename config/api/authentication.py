"""`X-API-Key` authentication for service clients: a key acts as its owner with at most its scopes;
`Authorization: Token ...` for people.

Both remember the row behind a key or token (with its user) for API_AUTH_CACHE_S seconds per
process, so a busy client costs no query per request; a revoked key, a deleted token or a
deactivated user stops working within that time.
"""

import copy

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from config.memo import MISSING, Memo
from config.models import APIKey
from config.services import api_key_authenticate, api_key_hash

HEADER = "X-API-Key"
_remembered = Memo(max_entries=4096)


def _api_key(raw_key: str) -> APIKey | None:
    """The key's row (user loaded), remembered by the key's digest; an unknown key is not remembered."""
    digest = ("key", api_key_hash(raw_key=raw_key))
    api_key = _remembered.get(digest)
    if api_key is MISSING:
        api_key = api_key_authenticate(raw_key=raw_key)
        if api_key is not None:
            _remembered.set(digest, api_key, ttl_s=float(settings.API_AUTH_CACHE_S))
    return api_key


class CachedTokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, with the token's row (and user) remembered briefly."""

    def authenticate_credentials(self, key: str) -> tuple[object, Token]:
        token = _remembered.get(("token", key))
        if token is MISSING:
            user, token = super().authenticate_credentials(key)
            _remembered.set(("token", key), token, ttl_s=float(settings.API_AUTH_CACHE_S))
        elif not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return copy.copy(token.user), token


class APIKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a request carrying `X-API-Key` as the key's owner; `request.auth` is the key.

    Scopes narrow what the owner may do through the key: a safe method (GET, HEAD, OPTIONS) needs
    `read`, any other method `write` (else 403 `insufficient_scope`); without `staff` the owner acts
    as a non-staff user for this request, so staff endpoints answer 403 and staff-wide views narrow
    to the owner's own data. The staff scope never makes a non-staff owner staff.
    """

    def authenticate(self, request: Request) -> tuple[object, APIKey] | None:
        raw_key = request.headers.get(HEADER)
        if not raw_key:
            return None
        api_key = _api_key(raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        user = copy.copy(api_key.user)  # changed below for this request only: never the remembered row
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The API key's user is inactive.")
        needed = APIKey.Scope.READ if request.method in SAFE_METHODS else APIKey.Scope.WRITE
        if not api_key.has_scope(needed):
            raise exceptions.PermissionDenied(
                f"This API key lacks the {needed!r} scope needed for {request.method} requests.",
                code="insufficient_scope",
            )
        if not api_key.has_scope(APIKey.Scope.STAFF):
            # The user row was loaded for this request only (never saved from here): it acts unprivileged.
            user.is_staff = False
            user.is_superuser = False
        return user, api_key

    def authenticate_header(self, request: Request) -> str:
        return HEADER


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = APIKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": HEADER,
            "description": "A key from `create_api_key`; it acts as its owner within its scopes (read, write, staff).",
        }
