"""GET /api/v1/llm/metrics and /api/v1/llm/costs: staff or service key only, thin over the ledger."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.services import api_key_create
from llm.models import LLMCall
from tests.factories import make_call

pytestmark = pytest.mark.django_db

METRICS = "/api/v1/llm/metrics"
COSTS = "/api/v1/llm/costs"
METRIC_KEYS = {
    "total_requests",
    "successful_requests",
    "failed_requests",
    "fallback_requests",
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
    "deferred_requests",
    "redis_available",
    "redis_errors",
}


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize("path", [METRICS, COSTS])
def test_anonymous_is_401(api_client, path):
    assert_error_shape(api_client.get(path), 401, "not_authenticated")


@pytest.mark.parametrize("path", [METRICS, COSTS])
def test_non_staff_user_is_403(user_client, path):
    assert_error_shape(user_client.get(path), 403, "permission_denied")


@pytest.mark.parametrize("path", [METRICS, COSTS])
def test_staff_and_service_key_are_allowed(staff_client, api_client, staff_user, user, path):
    _, raw_key = api_key_create(name="dashboards", user=staff_user, scopes=["read", "staff"])
    _, persons_key = api_key_create(name="mine", user=user)  # a key acts as its owner: not staff

    assert staff_client.get(path).status_code == 200
    assert api_client.get(path, HTTP_X_API_KEY=raw_key).status_code == 200
    assert_error_shape(api_client.get(path, HTTP_X_API_KEY=persons_key), 403, "permission_denied")


def test_metrics_reports_the_ledger(staff_client):
    make_call(tokens_in=100, tokens_out=50)
    make_call(status=LLMCall.Status.CACHED, attempts=0, tokens_in=0, tokens_out=0)
    make_call(status=LLMCall.Status.FAILED, rate_limit_errors=3)
    make_call(status=LLMCall.Status.FALLBACK, timeout_errors=1)

    body = staff_client.get(METRICS).json()

    assert set(body) == METRIC_KEYS
    assert body["total_requests"] == 4
    assert body["failed_requests"] == 1
    assert body["fallback_requests"] == 1
    assert body["cached_requests"] == 1
    assert body["prompt_tokens"] == 300
    assert body["total_tokens"] == 450
    assert body["rate_limit_errors"] == 3
    assert body["circuit_breaker_open"] is False


def test_metrics_since_excludes_older_calls(staff_client):
    make_call(days_ago=10)
    make_call(days_ago=10)
    make_call(days_ago=1)

    since = (timezone.now() - timedelta(days=2)).isoformat()
    body = staff_client.get(METRICS, {"since": since}).json()

    assert body["total_requests"] == 1
    assert staff_client.get(METRICS).json()["total_requests"] == 3


def test_metrics_since_accepts_utc_z_suffix(staff_client):
    make_call(days_ago=10)

    response = staff_client.get(METRICS, {"since": "2000-01-01T00:00:00Z"})

    assert response.status_code == 200
    assert response.json()["total_requests"] == 1


@pytest.mark.parametrize("since", ["yesterday", "2025-13-45T00:00:00", "1700000000"])
def test_metrics_bad_since_is_400_in_the_error_shape(staff_client, since):
    error = assert_error_shape(staff_client.get(METRICS, {"since": since}), 400, "validation_error")

    assert "since" in error["detail"]


def test_costs_report_the_window_with_exact_sums(staff_client):
    make_call(cost_usd=Decimal("0.001234"), days_ago=1)
    make_call(cost_usd=Decimal("0.000001"), status=LLMCall.Status.FALLBACK, days_ago=2)
    make_call(task="resume_match", model="gpt-4o", cost_usd=Decimal("0.250000"), mode=LLMCall.Mode.BATCH)
    make_call(task="ancient", cost_usd=Decimal("5.000000"), days_ago=20)

    body = staff_client.get(COSTS, {"days": 7}).json()

    assert body["until"] is None
    assert body["total"] == {
        "calls": 3,
        "tokens_in": 300,
        "tokens_out": 150,
        "cost_usd": "0.251235",
        "cached": 0,
        "fallbacks": 1,
        "failed": 0,
    }
    rows = {(r["task"], r["model"], r["mode"]): r for r in body["rows"]}
    assert set(rows) == {("product_copy", "gpt-4o-mini", "now"), ("resume_match", "gpt-4o", "batch")}
    assert rows[("product_copy", "gpt-4o-mini", "now")]["cost_usd"] == "0.001235"
    assert staff_client.get(COSTS, {"days": 30}).json()["total"]["calls"] == 4


def test_costs_default_window_is_30_days(staff_client):
    make_call(days_ago=29)
    make_call(days_ago=31)

    assert staff_client.get(COSTS).json()["total"]["calls"] == 1


@pytest.mark.parametrize("days", ["0", "-1", "367", "week"])
def test_costs_bad_days_is_400(staff_client, days):
    error = assert_error_shape(staff_client.get(COSTS, {"days": days}), 400, "validation_error")

    assert "days" in error["detail"]


def test_costs_endpoint_is_constant_in_queries(staff_client, django_assert_num_queries):
    for i in range(20):
        make_call(task=f"task_{i % 5}", model=f"model_{i % 2}")

    # force_authenticate skips auth lookups: the one query is the grouped report.
    with django_assert_num_queries(1):
        response = staff_client.get(COSTS, {"days": 1})

    assert len(response.json()["rows"]) == 10


def test_llm_endpoints_are_in_the_schema_without_warnings():
    out = StringIO()

    call_command("spectacular", "--fail-on-warn", "--validate", stdout=out)

    schema = out.getvalue()
    assert "/api/v1/llm/metrics:" in schema
    assert "/api/v1/llm/costs:" in schema
