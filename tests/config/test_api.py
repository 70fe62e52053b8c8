"""API authentication (session, token, X-API-Key) and the one error shape."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIRequestFactory

from config.api.errors import exception_handler
from config.errors import NotFoundError, RateLimitedError, ServiceUnavailableError
from config.models import APIKey
from config.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    return body["error"]


def test_valid_api_key_authenticates_as_its_user(api_client, user):
    _, raw_key = api_key_create(name="storefront", user=user)

    response = api_client.get("/api/v1/me", HTTP_X_API_KEY=raw_key)

    assert response.status_code == 200
    assert response.json() == {"username": "alice", "is_staff": False, "auth": "api_key"}
    assert APIKey.objects.get().last_used_at is not None


def test_api_keys_are_stored_hashed(user):
    api_key, raw_key = api_key_create(name="storefront", user=user)

    stored = APIKey.objects.get(pk=api_key.pk)
    assert raw_key not in (stored.key_hash, stored.prefix, stored.name)
    assert raw_key.startswith(stored.prefix)


def test_missing_credentials_are_401_in_the_error_shape(api_client):
    response = api_client.get("/api/v1/me")

    error = assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "X-API-Key"
    assert error["message"]


def test_unknown_api_key_is_401(api_client, user):
    response = api_client.get("/api/v1/me", HTTP_X_API_KEY="co_not-a-real-key")

    assert_error_shape(response, 401, "authentication_failed")


def test_revoked_api_key_is_401(api_client, user):
    api_key, raw_key = api_key_create(name="storefront", user=user)
    api_key_revoke(api_key=api_key)

    response = api_client.get("/api/v1/me", HTTP_X_API_KEY=raw_key)

    error = assert_error_shape(response, 401, "authentication_failed")
    assert "revoked" in error["message"]


def test_token_authentication(api_client, user):
    token = Token.objects.create(user=user)

    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.json()["auth"] == "token"


def test_session_authentication(client, user):
    client.force_login(user)

    response = client.get("/api/v1/me")

    assert response.json()["auth"] == "session"


def test_unknown_api_route_is_404_in_the_error_shape(staff_client):
    assert_error_shape(staff_client.get("/api/v1/nope/"), 404, "not_found")


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NotFoundError("No such product."), 404, "not_found"),
        (RateLimitedError("Slow down.", retry_after=2.5), 429, "rate_limited"),
        (ServiceUnavailableError("The provider is down.", detail={"provider": "openai"}), 503, "service_unavailable"),
        (ValidationError({"name": ["This field is required."]}), 400, "validation_error"),
    ],
)
def test_exception_handler_maps_errors(exc, status, code):
    request = APIRequestFactory().get("/")

    response = exception_handler(exc, {"request": request, "view": None})

    assert response.status_code == status
    assert response.data["error"]["code"] == code
    if isinstance(exc, RateLimitedError):
        assert response["Retry-After"] == "3"
    if isinstance(exc, ValidationError):
        assert response.data["error"]["detail"] == {"name": ["This field is required."]}


def test_schema_and_offline_docs_are_served(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"openapi" in schema.content
    assert docs.status_code == 200
    # The sidecar serves Swagger UI from our own static files, not a CDN.
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content
