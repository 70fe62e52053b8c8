"""LLM call metrics: counts and tokens from the `LLMCall` ledger, plus live cache and breaker state.

The ledger is the source of truth (every call, cached, fallback and failed ones included), so the
figures agree across processes and survive restarts; a reset only moves a "since" mark.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from llm.breaker import CLOSED, get_breaker
from llm.cache import cache_stats, cache_stats_reset
from llm.models import LLMCall
from llm.providers import provider_config
from llm.redis import REDIS_ERRORS, redis_available, redis_client, redis_failed, redis_outage_stats

_RESET_MARK_KEY = "llm:metrics:reset_at"

_Status = LLMCall.Status


def get_metrics(*, since: datetime | None = None) -> dict:
    """Totals for calls created after `since` (default: the last `metrics_reset()`, else all), in one query."""
    if since is None:
        since = _reset_mark()
    calls = LLMCall.objects.all() if since is None else LLMCall.objects.filter(created_at__gt=since)
    totals = calls.aggregate(
        total_requests=Count("id"),
        successful_requests=Count("id", filter=Q(status__in=[_Status.SUCCEEDED, _Status.CACHED])),
        failed_requests=Count("id", filter=Q(status=_Status.FAILED)),
        cached_requests=Count("id", filter=Q(status=_Status.CACHED)),
        fallback_requests=Count("id", filter=Q(status=_Status.FALLBACK)),
        deferred_requests=Count("id", filter=Q(status=_Status.DEFERRED)),
        prompt_tokens=Coalesce(Sum("tokens_in"), 0),
        completion_tokens=Coalesce(Sum("tokens_out"), 0),
        rate_limit_errors=Coalesce(Sum("rate_limit_errors"), 0),
        timeout_errors=Coalesce(Sum("timeout_errors"), 0),
        api_errors=Coalesce(Sum("api_errors"), 0),
        # Time a caller waited on the provider: live calls that reached it (batch lines have no latency
        # of their own, and a cache hit never left the process).
        avg_response_time_ms=Avg(
            "latency_ms", filter=Q(attempts__gt=0) & ~Q(status=_Status.CACHED) & ~Q(mode=LLMCall.Mode.BATCH)
        ),
    )
    stats = cache_stats()
    redis = redis_outage_stats()
    return {
        "total_requests": totals["total_requests"],
        "successful_requests": totals["successful_requests"],
        "failed_requests": totals["failed_requests"],
        "cached_requests": totals["cached_requests"],
        "fallback_requests": totals["fallback_requests"],
        "total_tokens": totals["prompt_tokens"] + totals["completion_tokens"],
        "prompt_tokens": totals["prompt_tokens"],
        "completion_tokens": totals["completion_tokens"],
        "rate_limit_errors": totals["rate_limit_errors"],
        "timeout_errors": totals["timeout_errors"],
        "api_errors": totals["api_errors"],
        "cache_hits": stats.hits,
        "cache_misses": stats.misses,
        "cache_evictions": stats.evictions,
        "cache_size": stats.size,
        "circuit_breaker_open": _circuit_open(),
        "avg_response_time_ms": round(totals["avg_response_time_ms"] or 0.0, 1),
        "deferred_requests": totals["deferred_requests"],
        # This process's view (Redis is what would share it): is the shared state in use, and how
        # many Redis errors the llm layer met and rode out on process memory.
        "redis_available": redis.available,
        "redis_errors": redis.errors,
    }


def metrics_reset() -> datetime:
    """Count from now on: move the shared "since" mark and zero the cache counters (rows stay: they
    are the bill). Returns the new mark."""
    now = timezone.now()
    cache.set(_RESET_MARK_KEY, now, timeout=None)
    cache_stats_reset()
    return now


def metrics_reset_at() -> datetime | None:
    """When the metrics were last reset (None: never; they count every ledger row)."""
    return _reset_mark()


def _reset_mark() -> datetime | None:
    # The mark lives in the cache: while Redis is away the metrics count every row instead of failing.
    if redis_client() is not None and not redis_available():
        return None
    try:
        return cache.get(_RESET_MARK_KEY)
    except REDIS_ERRORS as exc:
        redis_failed(exc, where="reading the metrics reset mark")
        return None


def _circuit_open() -> bool:
    # The runtime keys its breaker by provider account (`ProviderConfig.name`), so "default" alone
    # would always read closed in production; either one being open counts.
    names = {"default"}
    with contextlib.suppress(ImproperlyConfigured):  # a misconfigured provider is reported elsewhere
        names.add(provider_config().name)
    return any(get_breaker(name).state != CLOSED for name in sorted(names))
