"""`X-API-Key` authentication for service clients."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from config.models import APIKey
from config.services import api_key_authenticate

HEADER = "X-API-Key"


class APIKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a request carrying `X-API-Key` as the key's user; `request.auth` is the key."""

    def authenticate(self, request: Request) -> tuple[object, APIKey] | None:
        raw_key = request.headers.get(HEADER)
        if not raw_key:
            return None
        api_key = api_key_authenticate(raw_key=raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("The API key's user is inactive.")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return HEADER


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = APIKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": HEADER}
