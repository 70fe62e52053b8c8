"""The API boundary's pieces: one error shape for Django's own errors too, text cleaning, the renderer's
safety net, and an OpenAPI schema that documents what the API answers (DESIGN.md §5.10)."""

import json

import pytest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.test import Client, RequestFactory
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given
from hypothesis import strategies as st

from config.api.errors import bad_request, exception_handler, server_error
from config.api.renderers import JSONRenderer
from config.text import data_clean, text_clean, text_is_clean
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db

COMMON_ERRORS = {"400", "401", "403", "404", "413", "429"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    return body["error"]


# --- Django's errors under /api/ are JSON too ----------------------------------------------------------


def test_a_method_a_docs_page_does_not_allow_is_a_json_405(client):
    assert error_of(client.post("/api/docs/"), 405)["code"] == "method_not_allowed"


def test_a_disallowed_host_is_a_json_400_under_the_api_and_a_page_elsewhere(client, settings):
    settings.ALLOWED_HOSTS = ["testserver"]

    api = client.get("/api/v1/me", HTTP_HOST="evil.example")
    admin = client.get("/admin/login/", HTTP_HOST="evil.example")

    assert error_of(api, 400)["code"] == "bad_request"
    assert admin.status_code == 400
    assert admin["Content-Type"].startswith("text/html")


def test_unknown_api_paths_are_json_404s_for_any_method_even_with_csrf_checks(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    for method in ("get", "post", "put", "delete"):
        assert error_of(getattr(client, method)("/api/v1/nowhere"), 404)["code"] == "not_found"


def test_the_500_handler_answers_json_under_the_api():
    request = RequestFactory().get("/api/v1/me")

    assert error_of(server_error(request), 500)["code"] == "server_error"


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (RequestDataTooBig("too big"), 413, "request_too_large"),
        (SuspiciousOperation("odd"), 400, "bad_request"),
    ],
)
def test_request_level_django_errors_map_to_the_error_shape(exc, status, code):
    request = RequestFactory().post("/api/v1/me")

    from_drf = exception_handler(exc, {"request": request, "view": None})
    from_django = bad_request(request, exc)

    assert (from_drf.status_code, from_drf.data["error"]["code"]) == (status, code)
    assert error_of(from_django, status)["code"] == code


def test_a_form_field_over_the_memory_cap_is_a_json_413(user_client, user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.API_MAX_UPLOAD_BYTES = 10_000  # the body passes the boundary; Django's parser meets the cap
    ProfileFactory(owner=user, user_id="alice")

    response = user_client.put(
        "/api/v1/profiles/profile/alice", {"full_name": "x" * 5000}, format="multipart"
    )

    assert error_of(response, 413)["code"] == "request_too_large"


# --- text cleaning ---------------------------------------------------------------------------------


def test_text_clean_drops_nul_surrogates_and_controls_and_keeps_the_rest():
    assert text_clean("a\x00b\ud800c\x1bd\x7f\te\nf\rg") == "abcd\te\nf\rg"
    assert text_clean("日本語 résumé 😀 \u2028") == "日本語 résumé 😀 \u2028"


@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_text_clean_always_gives_storable_utf8_and_is_idempotent(value):
    cleaned = text_clean(value)

    assert text_is_clean(cleaned)
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogate left
    assert text_clean(cleaned) == cleaned
    if text_is_clean(value):
        assert cleaned == value


def test_data_clean_cleans_keys_and_nested_values_without_touching_the_input():
    value = {"k\x00": [1, "a\ud800", {"b\x01": None, "c": ["\x00"]}], "n": 1.5}

    assert data_clean(value) == {"k": [1, "a", {"b": None, "c": [""]}], "n": 1.5}
    assert "k\x00" in value


def test_the_renderer_answers_stored_unencodable_text_and_non_finite_numbers():
    rendered = JSONRenderer().render({"name\ud800": "Pat\udfff", "score": float("nan"), "ok": ["\x00x"]})

    assert json.loads(rendered.decode("utf-8")) == {"name": "Pat", "score": None, "ok": ["x"]}


# --- the schema tells the truth ------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_documents_the_common_errors_in_the_error_shape(schema):
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]

    assert len(operations) > 40
    for path, method, operation in operations:
        responses = operation["responses"]
        assert set(responses) >= COMMON_ERRORS, (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"], (method, path, status)
        if "requestBody" in operation:
            assert "415" in responses, (method, path)
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]


def test_a_batch_says_retry_of_and_an_items_result_may_be_null(schema):
    components = schema["components"]["schemas"]

    assert components["Batch"]["properties"]["retry_of"]["nullable"] is True
    assert components["BatchItem"]["properties"]["result"]["nullable"] is True


def test_read_only_values_of_blank_able_columns_may_be_blank(schema):
    listing = schema["components"]["schemas"]["JobListing"]["properties"]

    assert {"$ref": "#/components/schemas/BlankEnum"} in listing["salary_period"]["oneOf"]
    assert listing["url"]["anyOf"] == [{"format": "uri"}, {"maxLength": 0}]  # a posting without a link


def test_put_profile_takes_the_form_encoded_scalars_it_documents(schema, user_client, user):
    ProfileFactory(owner=user, user_id="alice")
    documented = schema["paths"]["/api/v1/profiles/profile/{user_id}"]["put"]["requestBody"]["content"]

    response = user_client.put(
        "/api/v1/profiles/profile/alice",
        "full_name=Pat+Q&years_of_experience=3&salary_range_min=100&programming_languages=Python&programming_languages=Go",
        content_type="application/x-www-form-urlencoded",
    )

    assert "application/x-www-form-urlencoded" in documented
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["full_name"], body["years_of_experience"], body["salary_range_min"]) == ("Pat Q", 3.0, 100)
    assert body["programming_languages"] == ["Python", "Go"]


def test_put_profile_refuses_unknown_form_fields(user_client, user):
    ProfileFactory(owner=user, user_id="alice")

    response = user_client.put(
        "/api/v1/profiles/profile/alice", "full_nme=typo", content_type="application/x-www-form-urlencoded"
    )

    assert "full_nme" in error_of(response, 400)["detail"]
