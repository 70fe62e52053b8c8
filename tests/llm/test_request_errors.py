"""Seed 001's error mapping at the API boundary: with `fallback=false` (query or body) or
LLM_FALLBACK_FOR_REQUESTS=false, a rate limit that outlasts the retries is 429 with Retry-After, an
outage or open breaker 503, in the project's error shape; otherwise the flagged fallback answers."""

from __future__ import annotations

import pytest

from llm.breaker import get_breaker
from llm.models import LLMCall
from llm.providers import provider_config

pytestmark = pytest.mark.django_db

DESCRIBE = "/api/v1/llm/fields/describe"
FIELD = {
    "field_path": "customer.contact.email",
    "field_name": "email",
    "data_type": "string",
    "semantic_type": "email_address",
    "sample_values": ["ann@example.com"],
}
RATE_LIMITED = ("429", {"retry_after_ms": 20})


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def retries(settings):
    settings.OPENAI_MAX_RETRY_ATTEMPTS = 3
    return 3


def test_the_model_answers_when_the_provider_is_healthy(sim, staff_client):
    response = staff_client.post(f"{DESCRIBE}?fallback=false", FIELD, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["is_fallback"], body["provider"], body["fallback_reason"]) == (False, "openai", "")
    assert body["field_path"] == FIELD["field_path"]
    assert body["business_name"]
    assert body["description"]


def test_by_default_a_rate_limit_gets_the_flagged_fallback(sim, staff_client, retries):
    sim.script(*[RATE_LIMITED] * retries)

    response = staff_client.post(DESCRIBE, FIELD, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["is_fallback"], body["fallback_reason"], body["model"]) == (True, "rate_limit", "rule-based")
    assert body["business_name"] == "Email"


def test_fallback_false_turns_a_lasting_rate_limit_into_429_with_retry_after(sim, staff_client, retries):
    sim.script(*[RATE_LIMITED] * retries)

    response = staff_client.post(f"{DESCRIBE}?fallback=false", FIELD, format="json")

    error = assert_error(response, 429, "llm_rate_limited")
    assert response["Retry-After"] == "1"
    assert error["detail"] == {"reason": "rate_limit", "task": "field_description"}
    assert sim.stats["chat.completions"]["429"] == retries  # the retries ran first
    assert LLMCall.objects.get().rate_limit_errors == retries


def test_a_body_field_says_the_same_and_an_outage_is_503(sim, staff_client, retries):
    sim.script(*[("503", {})] * retries)

    response = staff_client.post(DESCRIBE, {**FIELD, "fallback": False}, format="json")

    error = assert_error(response, 503, "llm_unavailable")
    assert error["detail"]["reason"] == "server_error"
    assert "Retry-After" in response


def test_the_setting_turns_fallbacks_off_and_an_open_breaker_is_503_without_a_call(sim, staff_client, settings):
    settings.LLM_FALLBACK_FOR_REQUESTS = False
    settings.OPENAI_CIRCUIT_RESET_TIMEOUT = 45
    get_breaker(provider_config().name).record_failure(force_open=True)

    response = staff_client.post(DESCRIBE, FIELD, format="json")

    error = assert_error(response, 503, "llm_unavailable")
    assert error["detail"]["reason"] == "circuit_open"
    assert response["Retry-After"] == "45"
    assert sim.stats["chat.completions"].total() == 0


def test_the_request_wins_over_the_setting(sim, staff_client, settings):
    settings.LLM_FALLBACK_FOR_REQUESTS = False
    get_breaker(provider_config().name).record_failure(force_open=True)

    response = staff_client.post(f"{DESCRIBE}?fallback=true", FIELD, format="json")

    assert response.status_code == 200
    assert response.json()["is_fallback"] is True


def test_an_unusable_answer_is_502_not_an_outage(sim, staff_client):
    sim.script("refusal")

    response = staff_client.post(f"{DESCRIBE}?fallback=false", FIELD, format="json")

    error = assert_error(response, 502, "llm_bad_answer")
    assert error["detail"]["reason"] == "refusal"


def test_offline_with_fallback_false_is_503(staff_client, settings):
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY, settings.AZURE_OPENAI_ENDPOINT = "", "", ""

    assert staff_client.post(DESCRIBE, FIELD, format="json").json()["is_fallback"] is True
    error = assert_error(staff_client.post(f"{DESCRIBE}?fallback=false", FIELD, format="json"), 503, "llm_unavailable")
    assert error["detail"]["reason"] == "offline"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"{DESCRIBE}?fallback=maybe", FIELD, "fallback"),
        (DESCRIBE, {**FIELD, "field_name": ""}, "field_name"),
        (DESCRIBE, {**FIELD, "sample_values": ["x"] * 11}, "sample_values"),
    ],
)
def test_bad_input_is_400_in_the_error_shape(staff_client, path, body, field):
    error = assert_error(staff_client.post(path, body, format="json"), 400, "validation_error")

    assert field in error["detail"]
    assert not LLMCall.objects.exists()


def test_describing_is_for_staff_or_service_keys(api_client, user_client):
    assert_error(api_client.post(DESCRIBE, FIELD, format="json"), 401, "not_authenticated")
    assert_error(user_client.post(DESCRIBE, FIELD, format="json"), 403, "permission_denied")
