"""Input and output shapes for the llm API (metrics and cost report); also used by `llm_costs --json`."""

from __future__ import annotations

from rest_framework import serializers

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
