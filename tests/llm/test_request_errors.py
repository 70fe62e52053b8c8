"""Seed 001's error mapping at the request boundary (`llm.requests`): with `fallback=false` (query or
body) or LLM_FALLBACK_FOR_REQUESTS=false, a rate limit that outlasts the retries is 429 with
Retry-After, an outage or open breaker 503, in the project's error shape; otherwise the flagged
fallback answers. Exercised through a small endpoint of this module, as any app's would use it."""

from __future__ import annotations

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from llm.breaker import get_breaker
from llm.models import LLMCall
from llm.providers import provider_config
from llm.requests import fallback_allowed, run_for_request
from llm.serializers import (
    PROVIDER_ERROR_RESPONSES,
    RETRY_AFTER_HEADER,
    FallbackQuerySerializer,
    fallback_requested,
)
from tests.llm.tasks import ECHO, EchoInput, applied

SUMMARY = "/summaries"
BODY = {"text": "a red electric guitar with two pickups"}
RATE_LIMITED = ("429", {"retry_after_ms": 20})


class SummaryApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="test_summary",
        parameters=[FallbackQuerySerializer, RETRY_AFTER_HEADER],
        request=inline_serializer("TestSummaryRequest", {"text": serializers.CharField()}),
        responses={
            200: inline_serializer("TestSummary", {"summary": serializers.CharField()}),
            **PROVIDER_ERROR_RESPONSES,
        },
    )
    def post(self, request: Request) -> Response:
        requested = fallback_requested(query_params=request.query_params, data=request.data)
        result = run_for_request(
            ECHO, EchoInput(text=request.data["text"]), allow_fallback=fallback_allowed(requested=requested)
        )
        return Response(
            {
                "summary": result.output.summary,
                "is_fallback": result.is_fallback,
                "fallback_reason": result.provenance.fallback_reason,
            }
        )


urlpatterns = [path(SUMMARY.lstrip("/"), SummaryApi.as_view())]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def _applied():
    applied.clear()
    yield
    applied.clear()


@pytest.fixture
def retries(settings):
    settings.OPENAI_MAX_RETRY_ATTEMPTS = 3
    return 3


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    return body["error"]


def test_the_model_answers_and_is_applied_when_the_provider_is_healthy(sim, api_client):
    response = api_client.post(f"{SUMMARY}?fallback=false", BODY, format="json")

    assert response.status_code == 200
    assert (response.json()["is_fallback"], response.json()["fallback_reason"]) == (False, "")
    assert applied == [(BODY["text"], False)]


def test_by_default_a_lasting_rate_limit_gets_the_flagged_fallback(sim, api_client, retries):
    sim.script(*[RATE_LIMITED] * retries)

    response = api_client.post(SUMMARY, BODY, format="json")

    assert response.status_code == 200
    assert (response.json()["is_fallback"], response.json()["fallback_reason"]) == (True, "rate_limit")
    assert response.json()["summary"].startswith("About: ")
    assert applied == [(BODY["text"], True)]


def test_fallback_false_turns_a_lasting_rate_limit_into_429_with_retry_after(sim, api_client, retries):
    sim.script(*[RATE_LIMITED] * retries)

    response = api_client.post(f"{SUMMARY}?fallback=false", BODY, format="json")

    error = assert_error(response, 429, "llm_rate_limited")
    assert response["Retry-After"] == "1"
    assert error["detail"] == {"reason": "rate_limit", "task": ECHO.name}
    assert sim.stats["chat.completions"]["429"] == retries  # the retries ran first
    assert LLMCall.objects.get().rate_limit_errors == retries
    assert applied == []  # nothing written for an answer nobody got


def test_a_body_field_says_the_same_and_an_outage_is_503(sim, api_client, retries):
    sim.script(*[("503", {})] * retries)

    response = api_client.post(SUMMARY, {**BODY, "fallback": False}, format="json")

    error = assert_error(response, 503, "llm_unavailable")
    assert error["detail"]["reason"] == "server_error"
    assert int(response["Retry-After"]) >= 1
    assert applied == []


def test_the_setting_turns_fallbacks_off_and_an_open_breaker_is_503_without_a_call(sim, api_client, settings):
    settings.LLM_FALLBACK_FOR_REQUESTS = False
    settings.OPENAI_CIRCUIT_RESET_TIMEOUT = 45
    get_breaker(provider_config().name).record_failure(force_open=True)

    response = api_client.post(SUMMARY, BODY, format="json")

    error = assert_error(response, 503, "llm_unavailable")
    assert error["detail"]["reason"] == "circuit_open"
    assert response["Retry-After"] == "45"
    assert sim.stats["chat.completions"].total() == 0


def test_the_request_wins_over_the_setting(sim, api_client, settings):
    settings.LLM_FALLBACK_FOR_REQUESTS = False
    get_breaker(provider_config().name).record_failure(force_open=True)

    response = api_client.post(f"{SUMMARY}?fallback=true", BODY, format="json")

    assert response.status_code == 200
    assert response.json()["is_fallback"] is True


def test_an_unusable_answer_is_502_not_an_outage(sim, api_client):
    sim.script("refusal")

    response = api_client.post(f"{SUMMARY}?fallback=false", BODY, format="json")

    error = assert_error(response, 502, "llm_bad_answer")
    assert error["detail"]["reason"] == "refusal"
    assert "Retry-After" not in response


def test_offline_with_fallback_false_is_503(api_client, settings):
    settings.LLM_PROVIDER, settings.OPENAI_API_KEY, settings.AZURE_OPENAI_ENDPOINT = "", "", ""

    assert api_client.post(SUMMARY, BODY, format="json").json()["is_fallback"] is True
    error = assert_error(api_client.post(f"{SUMMARY}?fallback=false", BODY, format="json"), 503, "llm_unavailable")
    assert error["detail"]["reason"] == "offline"


@pytest.mark.parametrize(
    ("url", "body"), [(f"{SUMMARY}?fallback=maybe", BODY), (SUMMARY, {**BODY, "fallback": "sometimes"})]
)
def test_a_fallback_choice_that_is_not_a_boolean_is_400(api_client, url, body):
    error = assert_error(api_client.post(url, body, format="json"), 400, "validation_error")

    assert "fallback" in error["detail"]
    assert not LLMCall.objects.exists()


def test_the_schema_documents_the_fallback_choice_and_the_provider_errors():
    schema = SchemaGenerator(patterns=urlpatterns).get_schema(request=None, public=True)

    operation = schema["paths"][SUMMARY]["post"]
    assert {"200", "429", "502", "503"} <= set(operation["responses"])
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    error = operation["responses"]["429"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/LLMError")
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["fallback"]
