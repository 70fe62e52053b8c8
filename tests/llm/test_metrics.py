"""Metrics from the LLMCall ledger plus live cache and breaker state, with a shared reset mark."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from llm.breaker import get_breaker
from llm.cache import cache_get, cache_set
from llm.metrics import get_metrics, metrics_reset
from llm.models import LLMCall
from llm.providers import provider_config
from llm.redis import redis_client

pytestmark = pytest.mark.django_db

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
SEED_KEYS = {
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
}


def call(status: str, **fields) -> LLMCall:
    values = {
        "task": "field_description",
        "task_version": 1,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "mode": "now",
        "status": status,
        "error_class": "" if status in ("succeeded", "cached") else "server_error",
        **fields,
    }
    return LLMCall.objects.create(**values)


def test_counts_and_sums_come_from_the_ledger_in_one_query(django_assert_num_queries):
    call("succeeded", attempts=2, tokens_in=100, tokens_out=40, rate_limit_errors=1)
    call("succeeded", attempts=1, tokens_in=50, tokens_out=10)
    call("cached")
    call("failed", attempts=3, tokens_in=30, timeout_errors=2, api_errors=1)
    call("fallback", error_class="circuit_open")

    with django_assert_num_queries(1):
        metrics = get_metrics()

    assert set(metrics) >= SEED_KEYS
    assert metrics == {
        "total_requests": 5,
        "successful_requests": 3,
        "failed_requests": 1,
        "cached_requests": 1,
        "fallback_requests": 1,
        "total_tokens": 230,
        "prompt_tokens": 180,
        "completion_tokens": 50,
        "rate_limit_errors": 1,
        "timeout_errors": 2,
        "api_errors": 1,
        "cache_hits": 0,
        "cache_misses": 0,
        "cache_evictions": 0,
        "cache_size": 0,
        "circuit_breaker_open": False,
        "avg_response_time_ms": 0.0,
        "deferred_requests": 0,
        "redis_available": True,
        "redis_errors": 0,
    }


def test_an_empty_ledger_reports_zeros_not_nulls():
    metrics = get_metrics()

    assert metrics["total_requests"] == 0
    assert (metrics["total_tokens"], metrics["prompt_tokens"], metrics["api_errors"]) == (0, 0, 0)


def test_reset_counts_from_now_and_since_overrides_the_mark():
    with time_machine.travel(T0, tick=False) as clock:
        call("succeeded", tokens_in=10)
        cache_get(key="absent")
        clock.shift(timedelta(minutes=1))

        metrics_reset()

        clock.shift(timedelta(minutes=1))
        call("failed", tokens_in=5)

        after_reset = get_metrics()
        everything = get_metrics(since=T0 - timedelta(seconds=1))

    assert (after_reset["total_requests"], after_reset["failed_requests"], after_reset["prompt_tokens"]) == (1, 1, 5)
    assert after_reset["cache_misses"] == 0
    assert (everything["total_requests"], everything["prompt_tokens"]) == (2, 15)


def test_cache_counters_flow_into_the_metrics():
    cache_set(key="k1", value={"v": 1}, task_name="t")
    cache_get(key="k1")
    cache_get(key="k2")

    metrics = get_metrics()

    assert (metrics["cache_hits"], metrics["cache_misses"], metrics["cache_size"]) == (1, 1, 1)


@pytest.mark.parametrize("name", ["default", "provider"])
def test_an_open_breaker_is_reported(name):
    breaker_name = provider_config().name if name == "provider" else "default"

    get_breaker(breaker_name).record_failure(force_open=True)

    assert get_metrics()["circuit_breaker_open"] is True


def test_the_reset_mark_is_shared_through_redis(needs_redis):
    call("succeeded")

    metrics_reset()

    # Another process reads the same mark from the shared cache.
    assert get_metrics()["total_requests"] == 0
    assert redis_client().exists("contentops:1:llm:metrics:reset_at")
