"""Input and output shapes for the llm API (metrics, resets, cache, costs); also used by
`llm_costs --json` and `llm_metrics --json`. `FallbackQuerySerializer`, `PROVIDER_ERROR_RESPONSES`
and `RETRY_AFTER_HEADER` document any app's LLM-backed endpoint (see `llm.requests`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from llm.task import registered_tasks

MAX_REPORT_DAYS = 366


class LLMMetricsQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        required=False,
        help_text="Only count calls after this ISO 8601 time (naive times are in the server's TIME_ZONE).",
    )


class LLMMetricsSerializer(serializers.Serializer):
    total_requests = serializers.IntegerField()
    successful_requests = serializers.IntegerField()
    failed_requests = serializers.IntegerField()
    fallback_requests = serializers.IntegerField()
    cached_requests = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    rate_limit_errors = serializers.IntegerField()
    timeout_errors = serializers.IntegerField()
    api_errors = serializers.IntegerField()
    cache_hits = serializers.IntegerField()
    cache_misses = serializers.IntegerField()
    cache_evictions = serializers.IntegerField()
    cache_size = serializers.IntegerField()
    circuit_breaker_open = serializers.BooleanField()
    avg_response_time_ms = serializers.FloatField(
        help_text="Mean latency of live calls that reached the provider (retries included); 0 when none."
    )
    deferred_requests = serializers.IntegerField(
        help_text="Background calls deferred because the provider was unavailable (nothing applied)."
    )
    redis_available = serializers.BooleanField(
        help_text="This process uses the shared state in Redis (false: Redis is unreachable, it runs on memory)."
    )
    redis_errors = serializers.IntegerField(help_text="Redis errors this process met and rode out since it started.")


class LLMMetricsResetSerializer(serializers.Serializer):
    reset_at = serializers.DateTimeField(help_text="Metrics count ledger rows created after this time.")


class LLMCacheClearRequestSerializer(serializers.Serializer):
    task = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=100,
        help_text="Only this LLM task's cached answers; all tasks when absent.",
    )

    def validate_task(self, value: str | None) -> str | None:
        if value is not None and value not in registered_tasks():
            raise serializers.ValidationError(f"No LLM task named {value!r}; known: {sorted(registered_tasks())}.")
        return value


class LLMCacheClearSerializer(serializers.Serializer):
    cleared = serializers.IntegerField(help_text="Cached answers removed.")
    task = serializers.CharField(allow_null=True, help_text="The task cleared; null: every task.")


class LLMErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    detail = serializers.JSONField(allow_null=True)


class LLMErrorSerializer(serializers.Serializer):
    """The project's one error shape, `{"error": {"code", "message", "detail"}}` (config/api/errors.py)."""

    error = LLMErrorBodySerializer()


# For an endpoint that answers with model output through `llm.requests.run_for_request`:
#   extend_schema(parameters=[FallbackQuerySerializer, RETRY_AFTER_HEADER],
#                 responses={200: ..., **PROVIDER_ERROR_RESPONSES})
PROVIDER_ERROR_RESPONSES = {
    429: OpenApiResponse(LLMErrorSerializer, description="fallback=false: provider rate limit (`llm_rate_limited`)."),
    502: OpenApiResponse(LLMErrorSerializer, description="fallback=false: no usable model answer (`llm_bad_answer`)."),
    503: OpenApiResponse(
        LLMErrorSerializer, description="fallback=false: provider down or breaker open (`llm_unavailable`)."
    ),
}
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again (always on 429; on 503 when known).",
)


class FallbackQuerySerializer(serializers.Serializer):
    # allow_null + default None: a query string without `fallback` must not read as false.
    fallback = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="false: answer 429/503 when the provider fails instead of the rule-based fallback "
        "(default: the LLM_FALLBACK_FOR_REQUESTS setting).",
    )


def fallback_requested(*, query_params: Mapping[str, Any], data: Any) -> bool | None:
    """The request's own `fallback` choice: the query parameter, else a body field; None when it made
    none. A value that is not a boolean raises DRF's ValidationError (a 400 in the error shape)."""
    for source in (query_params, data if isinstance(data, Mapping) else {}):
        if "fallback" in source:
            params = FallbackQuerySerializer(data={"fallback": source["fallback"]})
            params.is_valid(raise_exception=True)
            return params.validated_data["fallback"]
    return None


class LLMCostQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, default=30, min_value=1, max_value=MAX_REPORT_DAYS, help_text="Report window, ending now."
    )


class _LLMCostFigures(serializers.Serializer):
    calls = serializers.IntegerField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    # Strings, so JSON clients never round a spend figure through a float.
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=6)
    cached = serializers.IntegerField()
    fallbacks = serializers.IntegerField()
    failed = serializers.IntegerField()


class _LLMCostKey(serializers.Serializer):
    task = serializers.CharField()
    model = serializers.CharField()
    mode = serializers.CharField()


class LLMCostRowSerializer(_LLMCostKey, _LLMCostFigures):
    pass


class LLMCostTotalSerializer(_LLMCostFigures):
    pass


class LLMCostReportSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True, help_text="null: open-ended, up to now.")
    rows = LLMCostRowSerializer(many=True)
    total = LLMCostTotalSerializer()
