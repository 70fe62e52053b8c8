"""Input and output shapes for the llm API (metrics, resets, cache, costs, field descriptions); also
used by `llm_costs --json` and `llm_metrics --json`."""

from __future__ import annotations

from typing import Any

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


class FallbackQuerySerializer(serializers.Serializer):
    # allow_null + default None: a query string without `fallback` must not read as false.
    fallback = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="false: answer 429/503 when the provider fails instead of the rule-based fallback "
        "(default: the LLM_FALLBACK_FOR_REQUESTS setting).",
    )


class FieldDescribeRequestSerializer(serializers.Serializer):
    field_path = serializers.CharField(max_length=300, help_text="e.g. customer.contact.email")
    field_name = serializers.CharField(max_length=120)
    data_type = serializers.CharField(max_length=40)
    semantic_type = serializers.CharField(max_length=40, required=False, allow_null=True, default=None)
    sample_values = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=True), max_length=10, required=False, default=list
    )
    fallback = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="As the `fallback` query parameter."
    )

    def field_input(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data.pop("fallback", None)
        return data


class FieldDescriptionSerializer(serializers.Serializer):
    field_path = serializers.CharField()
    business_name = serializers.CharField()
    description = serializers.CharField()
    is_fallback = serializers.BooleanField(help_text="True: the rule-based description, not the model's.")
    fallback_reason = serializers.CharField(help_text="Why the fallback answered ('' for the model's answer).")
    provider = serializers.CharField()
    model = serializers.CharField()
    cached = serializers.BooleanField()


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
