"""`X-API-Key` authentication for service clients: a key acts as its owner with at most its scopes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from config.models import APIKey
from config.services import api_key_authenticate

HEADER = "X-API-Key"


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
        api_key = api_key_authenticate(raw_key=raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        user = api_key.user
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
