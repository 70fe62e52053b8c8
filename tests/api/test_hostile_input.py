"""Hostile input at the API boundary (DESIGN.md §5.10): whatever a client sends, the answer is JSON and
never a 5xx. Hypothesis draws deep JSON, lone surrogates, NUL and control characters in keys and values,
numbers past every column's range and oversized bodies, and sends them to the JSON endpoints as a person
and as staff (a staff-scoped API key).
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from config.services import api_key_create
from config.text import text_is_clean
from profiles.models import UserProfile
from tests.factories import JobFactory, ProfileFactory

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = "/api/v1/profiles/profile/alice"
# (persona, path) of every endpoint that reads a JSON body.
JSON_ENDPOINTS = [
    ("person", "/api/v1/profiles/profile/alice"),
    ("person", "/api/v1/profiles/parse-text/alice"),
    ("staff", "/api/v1/jobs/refresh"),
    ("staff", "/api/v1/llm/cache/clear"),
    ("staff", "/api/v1/batch/create?task_type=qualify"),
    ("staff", "/api/v1/conversation/start"),
    ("staff", "/api/v1/data-dictionaries/describe-field"),
    ("anonymous", "/api/v1/auth/token"),
]
HOSTILE_CHARS = st.characters(codec=None, exclude_categories=()) | st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\x1b", "\x7f", "\u2028", "\ufeff", "\U0001f600", "日", "本"]
)
HOSTILE_TEXT = st.text(HOSTILE_CHARS, max_size=40)


@pytest.fixture
def clients(settings, user, staff_user):
    """A client per persona; the throttles are lifted so every example reaches its view."""
    settings.LLM_PROVIDER = "offline"
    settings.API_THROTTLE_RATES = {}
    ProfileFactory(owner=user, user_id="alice")
    JobFactory()
    person = APIClient()
    person.force_authenticate(user)
    _, raw_key = api_key_create(name="hostile staff", user=staff_user, scopes=["read", "write", "staff"])
    return {"anonymous": APIClient(), "person": person, "staff": APIClient(HTTP_X_API_KEY=raw_key)}


def send(client: APIClient, method: str, path: str, body: bytes | str, content_type: str = "application/json"):
    response = client.generic(method, path, body, content_type=content_type)
    assert_json_answer(response)
    return response


def assert_json_answer(response) -> dict:
    """Not a server error, JSON, valid UTF-8, no NUL or lone surrogate; errors in the one error shape."""
    assert response.status_code < 500, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    text = response.content.decode("utf-8")  # strict: a lone surrogate would not be valid UTF-8
    assert "\\u0000" not in text
    assert "\\ud8" not in text.lower()  # a lone high surrogate escaped in the JSON
    body = json.loads(text)
    if response.status_code >= 400:
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message", "detail"}
        assert body["error"]["code"]
    return body


def nested(depth: int, opener: str) -> str:
    if opener == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def method_for(path: str) -> str:
    return "PUT" if path.startswith("/api/v1/profiles/profile/") else "POST"


# --- depth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "path"), JSON_ENDPOINTS)
@HYPOTHESIS
@given(depth=st.integers(min_value=33, max_value=5000), opener=st.sampled_from(["[", "{"]))
@example(depth=950, opener="[")  # the body: under 2 KB, a RecursionError in DRF's parser
@example(depth=100_000, opener="[")
def test_json_nested_deeper_than_the_limit_is_a_400(clients, persona, path, depth, opener):
    response = send(clients[persona], method_for(path), path, nested(depth, opener))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "json_too_deep"


@HYPOTHESIS
@given(depth=st.integers(min_value=1, max_value=32), opener=st.sampled_from(["[", "{"]))
def test_json_within_the_depth_limit_is_parsed(clients, depth, opener):
    response = send(clients["staff"], "POST", "/api/v1/llm/cache/clear", nested(depth, opener))

    assert response.json().get("error", {}).get("code") != "json_too_deep"


# --- text: NUL, lone surrogates, control characters -------------------------------------------------


def _escaped(value: object) -> str:
    # ensure_ascii writes lone surrogates as \udXXX escapes: what a hostile client sends on the wire.
    return json.dumps(value, ensure_ascii=True)


@pytest.mark.parametrize(("persona", "path"), JSON_ENDPOINTS)
@HYPOTHESIS
@given(body=st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT | st.lists(HOSTILE_TEXT, max_size=3), max_size=4))
def test_hostile_text_in_keys_and_values_never_breaks_an_answer(clients, persona, path, body):
    send(clients[persona], method_for(path), path, _escaped(body))


@HYPOTHESIS
@given(name=HOSTILE_TEXT, skill=HOSTILE_TEXT)
@example(name="Pat\x00\ud800 Example\x1b", skill="Py\udfffthon")
def test_profile_text_is_stored_clean(clients, name, skill):
    response = send(
        clients["person"], "PUT", PROFILE, _escaped({"full_name": name, "programming_languages": [skill]})
    )

    stored = UserProfile.objects.get(user_id="alice")
    if response.status_code == 200:
        assert text_is_clean(stored.full_name)
        assert all(text_is_clean(item) for item in stored.programming_languages)
        assert response.json()["full_name"] == stored.full_name


@pytest.mark.parametrize(
    "path",
    ["/api/v1/jobs/?q=%00", "/api/v1/jobs/?skill=a%00b&location=%ED%A0%80", "/api/v1/products/?category=%00"],
)
def test_nul_and_broken_utf8_in_query_strings_are_harmless(clients, path):
    assert_json_answer(clients["person"].get(path))


def test_nul_in_a_path_is_a_json_400(clients):
    response = clients["person"].get("/api/v1/profiles/profile/al%00ice")

    assert_json_answer(response)
    assert response.status_code == 400


# --- numbers -------------------------------------------------------------------------------------

HUGE_NUMBERS = st.one_of(
    st.integers(min_value=2**31),
    st.integers(max_value=-(2**31)),
    st.floats(min_value=1e16, allow_infinity=False),
    st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", "9" * 5000]),
)


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _with_number(template: str, number: int | float | str) -> str:
    literal = number if isinstance(number, str) else json.dumps(number)
    return template.replace("N", literal)


@pytest.mark.parametrize(
    "template",
    [
        '{"salary_range_min": N}',
        '{"salary_range_max": N}',
        '{"years_of_experience": N}',
        '{"graduation_years": [N]}',
        '{"preferences": {"salary_range": {"min": N, "max": N}}}',
    ],
)
@HYPOTHESIS
@given(number=HUGE_NUMBERS)
def test_numbers_past_a_profile_column_are_a_400(clients, template, number):
    response = send(clients["person"], "PUT", PROFILE, _with_number(template, number))

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/jobs/refresh", '{"feed_ids": [N]}'),
        ("/api/v1/conversation/start", '{"job_id": N}'),
        ("/api/v1/batch/create?task_type=qualify", '{"job_ids": [N]}'),
        ("/api/v1/batch/create?task_type=qualify", '{"limit": N, "min_score": N}'),
    ],
)
@HYPOTHESIS
@given(number=HUGE_NUMBERS | st.integers(min_value=2**62, max_value=2**64))
def test_huge_ids_and_limits_are_a_4xx(clients, path, template, number):
    response = send(clients["staff"], "POST", path, _with_number(template, number))

    assert 400 <= response.status_code < 500


@HYPOTHESIS
@given(days=st.one_of(st.integers(), st.text(HOSTILE_CHARS, max_size=30)))
def test_hostile_query_numbers_are_a_4xx_or_an_answer(clients, days):
    raw = quote(_raw(str(days)))  # lone surrogates go out as broken UTF-8

    assert_json_answer(clients["staff"].get(f"/api/v1/llm/costs?days={raw}"))


# --- sizes and shapes ----------------------------------------------------------------------------


def _json_string_body(size: int) -> bytes:
    """A valid JSON document of exactly `size` bytes: {"text": "xxx…"}."""
    frame = b'{"text": ""}'
    return frame[:-2] + b"x" * (size - len(frame)) + frame[-2:]


@pytest.mark.parametrize(("persona", "path"), JSON_ENDPOINTS)
def test_a_body_over_10_mib_is_a_json_413(clients, persona, path):
    body = _json_string_body(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = send(clients[persona], method_for(path), path, body)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "request_too_large"
    assert error["detail"]["max_bytes"] == django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_a_body_of_exactly_the_limit_is_read(clients):
    body = _json_string_body(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    response = send(clients["staff"], "POST", "/api/v1/llm/cache/clear", body)

    assert response.status_code == 200  # read and parsed (`text` is no field of this endpoint: ignored)


@HYPOTHESIS
@given(size=st.integers(min_value=1, max_value=4096))
def test_bodies_over_a_lowered_cap_are_413_under_it_never(clients, settings, size):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    response = send(clients["staff"], "POST", "/api/v1/llm/cache/clear", _json_string_body(max(size, 12)))

    assert (response.status_code == 413) == (max(size, 12) > 2048)


def test_a_multipart_upload_over_the_api_cap_is_a_json_413(clients, settings):
    settings.API_MAX_UPLOAD_BYTES = 64 * 1024
    body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.txt\"\r\n\r\n" + b"x" * 70_000
    body += b"\r\n--b--\r\n"

    response = send(
        clients["person"], "POST", "/api/v1/profiles/upload-resume/alice", body, "multipart/form-data; boundary=b"
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


@HYPOTHESIS
@given(raw=st.binary(max_size=200))
@example(raw=b'{"text": "\xff\xfe"}')  # not UTF-8
@example(raw=b'{"text": "a"')  # cut short
@example(raw=b"\xef\xbb\xbf{}")  # a byte order mark
def test_malformed_json_bytes_are_a_400(clients, raw):
    response = send(clients["person"], "POST", "/api/v1/profiles/parse-text/alice", raw)

    assert response.status_code in (200, 400, 413, 422)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/json; charset=bz2_codec", "image/png"]
)
def test_unsupported_content_types_are_json_4xx(clients, content_type):
    response = send(clients["person"], "PUT", PROFILE, b'{"full_name": "Pat"}', content_type)

    assert response.status_code in (400, 415)


@HYPOTHESIS
@given(
    fields=st.dictionaries(
        st.text(HOSTILE_CHARS, min_size=1, max_size=20), st.text(HOSTILE_CHARS, max_size=40), max_size=5
    )
)
def test_hostile_form_fields_never_break_an_answer(clients, fields):
    # Lone surrogates go out as the broken UTF-8 bytes a hostile client would send.
    body = urlencode({_raw(key): _raw(value) for key, value in fields.items()})

    send(clients["person"], "PUT", PROFILE, body, "application/x-www-form-urlencoded")


def test_too_many_form_fields_is_a_json_400(clients, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{i}=x" for i in range(50))

    response = send(clients["person"], "PUT", PROFILE, body, "application/x-www-form-urlencoded")

    assert response.status_code == 400
