"""Seed 001's operations from outside Python: metrics (with latency), their reset, and clearing the
answer cache, over the API (staff or API key) and as management commands."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from drf_spectacular.generators import SchemaGenerator

from config.services import api_key_create
from llm.cache import cache_get, cache_set
from llm.models import LLMCall
from tests.llm.tasks import ECHO

pytestmark = pytest.mark.django_db

METRICS = "/api/v1/llm/metrics"
RESET = "/api/v1/llm/metrics/reset"
CLEAR = "/api/v1/llm/cache/clear"
SEED_001_KEYS = {
    "total_requests",
    "successful_requests",
    "failed_requests",
    "cached_requests",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "rate_limit_errors",
    "timeout_errors",
    "api_errors",
    "cache_hits",
    "cache_misses",
    "cache_evictions",
    "cache_size",
    "circuit_breaker_open",
    "avg_response_time_ms",
}


def ledger_row(**fields) -> LLMCall:
    values = {
        "task": "llm_test_echo",
        "task_version": 1,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "mode": LLMCall.Mode.NOW,
        "status": LLMCall.Status.SUCCEEDED,
        "attempts": 1,
        "tokens_in": 10,
        "tokens_out": 5,
        **fields,
    }
    if values["status"] in (LLMCall.Status.FAILED, LLMCall.Status.FALLBACK):
        values.setdefault("error_class", "server_error")
    return LLMCall.objects.create(**values)


def cache_two_tasks() -> None:
    cache_set(key="fd-1", value={"output": 1}, task_name=ECHO.name)
    cache_set(key="rp-1", value={"output": 2}, task_name="product_content")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    return body["error"]


# --- GET /metrics ---------------------------------------------------------------------------------


def test_metrics_carry_the_seed_keys_and_the_mean_latency_of_calls_that_reached_the_provider(staff_client):
    ledger_row(latency_ms=100)
    ledger_row(status=LLMCall.Status.FAILED, attempts=3, latency_ms=300)
    ledger_row(status=LLMCall.Status.CACHED, attempts=0, latency_ms=1)  # never left the process
    ledger_row(mode=LLMCall.Mode.BATCH, latency_ms=0)  # a batch line has no latency of its own
    ledger_row(status=LLMCall.Status.FALLBACK, attempts=0, latency_ms=2, error_class="circuit_open")

    body = staff_client.get(METRICS).json()

    assert set(body) >= SEED_001_KEYS
    assert body["avg_response_time_ms"] == 200.0
    assert (body["total_requests"], body["failed_requests"], body["cached_requests"]) == (5, 1, 1)


def test_an_empty_ledger_has_zero_latency_not_null(staff_client):
    assert staff_client.get(METRICS).json()["avg_response_time_ms"] == 0.0


# --- POST /metrics/reset ----------------------------------------------------------------------------


def test_reset_counts_from_then_and_keeps_the_ledger(staff_client):
    ledger_row(tokens_in=100)
    cache_get(key="absent")  # one miss
    assert staff_client.get(METRICS).json()["cache_misses"] == 1

    response = staff_client.post(RESET)

    assert response.status_code == 200
    assert "reset_at" in response.json()
    ledger_row(tokens_in=7)
    body = staff_client.get(METRICS).json()
    assert (body["total_requests"], body["prompt_tokens"], body["cache_misses"]) == (1, 7, 0)
    assert LLMCall.objects.count() == 2  # the bill is kept


# --- POST /cache/clear -------------------------------------------------------------------------------


def test_cache_clear_for_one_task_leaves_the_others(staff_client):
    cache_two_tasks()

    response = staff_client.post(CLEAR, {"task": ECHO.name}, format="json")

    assert response.status_code == 200
    assert response.json() == {"cleared": 1, "task": ECHO.name}
    assert cache_get(key="fd-1") is None
    assert cache_get(key="rp-1") == {"output": 2}


@pytest.mark.parametrize("body", [None, {}])
def test_cache_clear_without_a_task_clears_everything(staff_client, body):
    cache_two_tasks()

    response = staff_client.post(CLEAR, body, format="json")

    assert response.json() == {"cleared": 2, "task": None}
    assert cache_get(key="fd-1") is None
    assert cache_get(key="rp-1") is None


def test_cache_clear_of_an_unknown_task_is_400_and_clears_nothing(staff_client):
    cache_two_tasks()

    error = assert_error(staff_client.post(CLEAR, {"task": "no_such_task"}, format="json"), 400, "validation_error")

    assert "task" in error["detail"]
    assert cache_get(key="fd-1") == {"output": 1}


# --- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [RESET, CLEAR])
def test_anonymous_is_401_and_non_staff_403(api_client, user_client, path):
    cache_two_tasks()

    assert_error(api_client.post(path), 401, "not_authenticated")
    assert_error(user_client.post(path), 403, "permission_denied")
    assert cache_get(key="fd-1") == {"output": 1}


@pytest.mark.parametrize("path", [RESET, CLEAR])
def test_a_service_key_may(api_client, staff_user, path):
    _, raw_key = api_key_create(name="ops", user=staff_user, scopes=["write", "staff"])

    assert api_client.post(path, HTTP_X_API_KEY=raw_key).status_code == 200


def test_the_operations_are_in_the_schema_with_their_error_answers():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    paths = schema["paths"]
    for path in (RESET, CLEAR):
        # Every operation also documents the common error answers (config/api/schema.py).
        assert {"200", "401", "403"} | ({"400"} if path == CLEAR else set()) <= set(paths[path]["post"]["responses"])
    assert {"400", "401", "403"} <= set(paths[METRICS]["get"]["responses"])


# --- the same as commands ----------------------------------------------------------------------------


def test_llm_metrics_command_prints_the_api_figures():
    ledger_row(tokens_in=40, tokens_out=2, latency_ms=50)
    out = StringIO()

    call_command("llm_metrics", "--json", stdout=out)

    figures = json.loads(out.getvalue())
    assert set(figures) >= SEED_001_KEYS
    assert (figures["total_tokens"], figures["avg_response_time_ms"]) == (42, 50.0)
    text = StringIO()
    call_command("llm_metrics", stdout=text)
    assert "never reset" in text.getvalue()
    assert "total_tokens" in text.getvalue()


def test_llm_metrics_reset_command_counts_from_then():
    ledger_row()
    out = StringIO()

    call_command("llm_metrics", "--reset", stdout=out)

    assert "reset at" in out.getvalue()
    figures = StringIO()
    call_command("llm_metrics", "--json", stdout=figures)
    assert json.loads(figures.getvalue())["total_requests"] == 0
    assert LLMCall.objects.count() == 1
    text = StringIO()
    call_command("llm_metrics", stdout=text)
    assert "since" in text.getvalue()


def test_llm_cache_clear_command_clears_one_task_or_all():
    cache_two_tasks()
    out = StringIO()

    call_command("llm_cache_clear", "--task", "product_content", stdout=out)

    assert "Cleared 1" in out.getvalue()
    assert cache_get(key="rp-1") is None
    assert cache_get(key="fd-1") == {"output": 1}
    call_command("llm_cache_clear", stdout=out)
    assert cache_get(key="fd-1") is None
    with pytest.raises(CommandError, match="No LLM task named"):
        call_command("llm_cache_clear", "--task", "no_such_task")
