"""`/healthz`: database, cache, broker and LLM provider breaker as JSON; 503 naming what is down.

A round of probes costs a database query, three cache commands and a broker connection: each
process answers from its last round for HEALTHZ_CACHE_S seconds (2 by default), so frequent polling
(load balancers, a load test) does not multiply them. The probes run side by side and the answer
comes within HEALTHZ_TIMEOUT_S (3 s) even when a dependency hangs (Redis gone costs a 2 s connect
timeout per command): a probe that has not answered by then is reported as down.

Always JSON, whatever fails: each check turns the errors its dependency can raise into a human
message (never the exception's class or text, which can name hosts or carry credentials), and a
check that cannot run is reported as down rather than turning the page into a 500.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, InterfaceError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django_redis.exceptions import ConnectionInterrupted
from kombu import Connection
from kombu.exceptions import KombuError

from config.api.errors import error_body
from config.memo import MISSING, Memo
from llm.breaker import OPEN, get_breaker
from llm.providers import provider_config

logger = logging.getLogger("contentops.health")


class CheckFailedError(Exception):
    """A check that ran and found its dependency unhealthy (its message is safe to show)."""


# What a database, Redis, the broker or the breaker's storage raise when they are down or refuse us.
CHECK_ERRORS = (
    DatabaseError,
    InterfaceError,
    redis.RedisError,
    ConnectionInterrupted,  # django-redis wraps redis-py's errors in its own, not a subclass of them
    KombuError,
    OSError,  # ConnectionError, TimeoutError, socket errors
    ImproperlyConfigured,
)

MESSAGES = {
    "database": "The database is not reachable or did not answer a query.",
    "cache": "The cache (Redis) is not reachable: LLM response caching is off and shared limits, "
    "the breaker and locks fall back to each process.",
    "broker": "The task broker is not reachable: background work and schedules are not being queued.",
    "provider": "The LLM provider's circuit breaker state cannot be read (it is kept in Redis).",
}


def check_database() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "backend": connection.vendor}


def check_cache() -> dict[str, str]:
    key, value = f"healthz:{uuid.uuid4().hex}", "1"
    cache.set(key, value, timeout=5)
    ok = cache.get(key) == value
    cache.delete(key)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if not ok:
        raise CheckFailedError("The cache accepted a value but did not return it.")
    return {"status": "ok", "backend": backend}


def check_broker() -> dict[str, str]:
    if not settings.CELERY_BROKER_URL:
        return {"status": "ok", "backend": "inline"}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return {"status": "ok", "backend": conn.transport_cls if isinstance(conn.transport_cls, str) else "broker"}


def check_provider() -> dict[str, str]:
    """The configured LLM provider's circuit breaker: open means calls are failing and being held back."""
    try:
        config = provider_config()
    except ImproperlyConfigured as exc:
        raise CheckFailedError(
            "The LLM provider is misconfigured (see LLM_PROVIDER and the OPENAI_* settings)."
        ) from exc
    if config.kind == "offline":
        return {"status": "ok", "backend": "offline"}
    breaker = get_breaker(config.name)
    state = breaker.state
    if state == OPEN:
        until = breaker.opened_until
        retry = f" It lets a trial request through after {until:%H:%M:%S} UTC." if until else ""
        raise CheckFailedError(
            "The LLM provider's circuit breaker is open after repeated failures: people get rule-based "
            f"fallbacks and background work waits.{retry}"
        )
    return {"status": "ok", "backend": config.kind, "breaker": state}


CHECKS: dict[str, Callable[[], dict[str, str]]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "provider": check_provider,
}


def _run_check(name: str, check: Callable[[], dict[str, str]]) -> dict[str, str]:
    started = time.perf_counter()
    try:
        result = check()
    except CheckFailedError as exc:
        result = {"status": "error", "message": str(exc)}
    except CHECK_ERRORS:
        # Logged with the details for operators; the answer carries only the human message.
        logger.warning("healthz: %s check failed", name, exc_info=True)
        result = {"status": "error", "message": MESSAGES.get(name, f"The {name} check failed.")}
        if name == "database":
            with contextlib.suppress(*CHECK_ERRORS):
                connection.close()  # a broken connection must not stay for the next request
    result["latency_ms"] = f"{(time.perf_counter() - started) * 1000:.1f}"
    return result


_recent = Memo(max_entries=1)
# The probes other than the database's (which stays on the request's own connection). A probe stuck
# past the deadline keeps its thread until its own socket timeout; the pool bounds how many can.
_probes = ThreadPoolExecutor(max_workers=3, thread_name_prefix="healthz")


def _run_all(*, timeout_s: float) -> dict[str, dict[str, str]]:
    deadline = time.monotonic() + timeout_s
    pending: dict[str, Future[dict[str, str]]] = {
        name: _probes.submit(_run_check, name, check) for name, check in CHECKS.items() if name != "database"
    }
    results = {name: _run_check(name, check) for name, check in CHECKS.items() if name == "database"}
    for name, future in pending.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeoutError:
            logger.warning("healthz: %s check did not answer within %.1f s", name, timeout_s)
            results[name] = {
                "status": "error",
                "message": f"{MESSAGES.get(name, name)} (no answer within {timeout_s:g} s)",
            }
    return {name: results[name] for name in CHECKS}


def run_checks() -> tuple[bool, dict[str, dict[str, str]]]:
    """Every check's result; the last round's for HEALTHZ_CACHE_S seconds (per process)."""
    ttl = float(settings.HEALTHZ_CACHE_S)
    if ttl > 0:
        cached = _recent.get("checks")
        if cached is not MISSING:
            return cached
    results = _run_all(timeout_s=float(settings.HEALTHZ_TIMEOUT_S))
    answer = all(r["status"] == "ok" for r in results.values()), results
    _recent.set("checks", answer, ttl_s=ttl)
    return answer


@csrf_exempt  # read-only; exempt so any method gets this JSON answer rather than an HTML 403
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(error_body(code="method_not_allowed", message="Use GET."), status=405)
        response["Allow"] = "GET, HEAD"
        return response
    healthy, checks = run_checks()
    failing = [name for name, result in checks.items() if result["status"] != "ok"]
    body: dict[str, object] = {"status": "ok" if healthy else "error", "checks": checks}
    if failing:
        body["failing"] = failing
        body["message"] = "Unhealthy: " + ", ".join(f"{name} ({checks[name]['message']})" for name in failing)
    return JsonResponse(body, status=200 if healthy else 503)
