"""`/healthz`: database, cache and broker status as JSON; 503 when one is down."""

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection
from kombu.exceptions import KombuError

# Connection errors from redis, psycopg or amqp all derive from OSError or these.
CHECK_ERRORS = (DatabaseError, KombuError, OSError, ConnectionError, TimeoutError)


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
        return {"status": "error", "backend": backend, "error": "value written was not read back"}
    return {"status": "ok", "backend": backend}


def check_broker() -> dict[str, str]:
    if not settings.CELERY_BROKER_URL:
        return {"status": "ok", "backend": "inline"}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return {"status": "ok", "backend": conn.transport_cls if isinstance(conn.transport_cls, str) else "broker"}


CHECKS: dict[str, Callable[[], dict[str, str]]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> tuple[bool, dict[str, dict[str, str]]]:
    results: dict[str, dict[str, str]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            result = check()
        except CHECK_ERRORS as exc:
            # The class name only: connection strings in messages may carry credentials.
            result = {"status": "error", "error": type(exc).__name__}
        result["latency_ms"] = f"{(time.perf_counter() - started) * 1000:.1f}"
        results[name] = result
    return all(r["status"] == "ok" for r in results.values()), results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, checks = run_checks()
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
