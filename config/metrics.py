"""`/metrics` for Prometheus: django-prometheus' request metrics plus ContentOps' own figures.

Ours are computed when Prometheus scrapes, from the database (the usage ledger and the batch table:
a few GROUP BY queries, so every process and restart agrees) and from the shared state (LLM cache
counters, the circuit breaker, the broker's queues). The one hot-path figure, time spent waiting for
the shared rate budget, is a histogram in each process (llm/limits.py).

Who may read it: `Authorization: Bearer <METRICS_TOKEN>` (for the scraper), a staff member signed in
to the admin, or an `X-API-Key` with the staff scope whose owner is staff.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import threading
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from config.api.errors import error_body

logger = logging.getLogger("contentops.metrics")
BREAKER_STATES = {"closed": 0.0, "half-open": 0.5, "open": 1.0}
QUEUES = ("celery",)
_registered = threading.Lock()
_collector: ContentOpsCollector | None = None


class ContentOpsCollector(Collector):
    """Ledger, batch, cache, breaker and queue figures, read at scrape time."""

    def describe(self) -> list[Metric]:
        # Without it the registry would call collect() at registration (AppConfig.ready), querying the
        # database before the apps are ready.
        return []

    def collect(self) -> Iterator[Metric]:
        with contextlib.suppress(DatabaseError):
            yield from self._ledger()
        with contextlib.suppress(DatabaseError):
            yield from self._batches()
        yield from self._cache_and_breaker()
        yield from self._queues()

    def _ledger(self) -> Iterator[Metric]:
        from llm.models import LLMCall

        calls = CounterMetricFamily(
            "contentops_llm_calls", "LLM calls in the usage ledger, by task, mode and outcome.",
            labels=["task", "mode", "status"],
        )  # fmt: skip
        tokens = CounterMetricFamily(
            "contentops_llm_tokens", "Tokens billed, by task and kind (input, cached input, output).",
            labels=["task", "kind"],
        )  # fmt: skip
        cost = CounterMetricFamily("contentops_llm_cost_usd", "Estimated USD spent, by task.", labels=["task"])
        rows = (
            LLMCall.objects.order_by()
            .values("task", "mode", "status")
            .annotate(
                n=Count("id"),
                tokens_in=Coalesce(Sum("tokens_in"), 0),
                tokens_cached=Coalesce(Sum("tokens_cached"), 0),
                tokens_out=Coalesce(Sum("tokens_out"), 0),
                cost=Sum("cost_usd"),
            )
        )
        per_task: dict[str, list[float]] = {}
        for row in rows:
            calls.add_metric([row["task"], row["mode"], row["status"]], row["n"])
            sums = per_task.setdefault(row["task"], [0.0, 0.0, 0.0, 0.0])
            sums[0] += row["tokens_in"]
            sums[1] += row["tokens_cached"]
            sums[2] += row["tokens_out"]
            sums[3] += float(row["cost"] or 0)
        for task, (tokens_in, tokens_cached, tokens_out, usd) in sorted(per_task.items()):
            tokens.add_metric([task, "input"], tokens_in)
            tokens.add_metric([task, "cached_input"], tokens_cached)
            tokens.add_metric([task, "output"], tokens_out)
            cost.add_metric([task], usd)
        yield from (calls, tokens, cost)

    def _batches(self) -> Iterator[Metric]:
        from batches.models import Batch

        batches = GaugeMetricFamily("contentops_batches", "Provider batches by status.", labels=["status"])
        items = GaugeMetricFamily(
            "contentops_batch_items", "Batch items by state, over every batch.", labels=["state"]
        )
        totals = {"applied": 0, "failed": 0, "resubmitted": 0, "in_flight": 0}
        rows = (
            Batch.objects.order_by()
            .values("status")
            .annotate(
                n=Count("id"),
                total=Coalesce(Sum("item_count"), 0),
                applied=Coalesce(Sum("items_applied"), 0),
                failed=Coalesce(Sum("items_failed"), 0),
                resubmitted=Coalesce(Sum("items_resubmitted"), 0),
            )
        )
        for row in rows:
            batches.add_metric([row["status"]], row["n"])
            totals["applied"] += row["applied"]
            totals["failed"] += row["failed"]
            totals["resubmitted"] += row["resubmitted"]
            if row["status"] not in (Batch.Status.INGESTED, Batch.Status.CANCELLED):
                totals["in_flight"] += row["total"] - row["applied"] - row["failed"] - row["resubmitted"]
        for state, value in totals.items():
            items.add_metric([state], value)
        yield from (batches, items)

    def _cache_and_breaker(self) -> Iterator[Metric]:
        from llm.breaker import get_breaker
        from llm.cache import cache_stats
        from llm.providers import provider_config
        from llm.redis import REDIS_ERRORS

        try:
            stats = cache_stats()
        except REDIS_ERRORS:
            stats = None
        if stats is not None:
            yield CounterMetricFamily("contentops_llm_cache_hits", "LLM response cache hits.", value=stats.hits)
            yield CounterMetricFamily("contentops_llm_cache_misses", "LLM response cache misses.", value=stats.misses)
            yield GaugeMetricFamily(
                "contentops_llm_cache_entries", "Entries in the LLM response cache.", value=stats.size
            )
        breaker = GaugeMetricFamily(
            "contentops_llm_breaker_state",
            "The provider's circuit breaker: 0 closed, 0.5 half-open (one probe), 1 open.",
            labels=["provider"],
        )
        try:
            config = provider_config()
            state = "closed" if config.kind == "offline" else get_breaker(config.name).state
            breaker.add_metric([config.name], BREAKER_STATES.get(state, 1.0))
        except (ImproperlyConfigured, *REDIS_ERRORS):  # type: ignore[misc]  # mypy can't read a starred tuple here
            pass
        yield breaker

    def _queues(self) -> Iterator[Metric]:
        if not settings.CELERY_BROKER_URL:
            return
        from kombu import Connection
        from kombu.exceptions import KombuError

        queued = GaugeMetricFamily("contentops_queue_messages", "Messages waiting in a Celery queue.", labels=["queue"])
        up = 1.0
        try:
            with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
                channel = conn.default_channel
                for name in QUEUES:
                    with contextlib.suppress(KombuError, OSError):  # a queue not declared yet has no length
                        queued.add_metric([name], channel.queue_declare(queue=name, passive=True).message_count)
        except (KombuError, OSError):
            logger.warning("metrics: the broker did not answer", exc_info=True)
            up = 0.0
        yield queued
        yield GaugeMetricFamily("contentops_broker_up", "1 when the broker answered this scrape.", value=up)


def register_collectors() -> None:
    """Add ContentOps' collector to the default registry once per process (AppConfig.ready)."""
    global _collector
    with _registered:
        if _collector is None:
            _collector = ContentOpsCollector()
            REGISTRY.register(_collector)


def metrics_allowed(request: HttpRequest) -> bool:
    """The scraper's bearer token, a signed-in staff member, or a staff-scoped API key of a staff user."""
    header = request.headers.get("Authorization", "")
    if settings.METRICS_TOKEN and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer ") :].strip(), settings.METRICS_TOKEN)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return True
    raw_key = request.headers.get("X-API-Key", "").strip()
    if raw_key:
        from config.models import APIKey
        from config.services import api_key_authenticate

        api_key = api_key_authenticate(raw_key=raw_key)
        return bool(
            api_key is not None
            and api_key.is_active
            and api_key.has_scope(APIKey.Scope.STAFF)
            and api_key.user.is_active
            and api_key.user.is_staff
        )
    return False


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        response = JsonResponse(
            error_body(
                code="not_authenticated",
                message="Metrics need `Authorization: Bearer <METRICS_TOKEN>`, a staff session, "
                "or a staff-scoped X-API-Key.",
            ),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
