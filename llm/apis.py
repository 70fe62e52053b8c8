"""Staff/service endpoints over the llm layer: live metrics and their reset, the answer cache and
the cost report (seed 001's operations from outside Python)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import IsStaffOrServiceKey
from llm.cache import cache_clear
from llm.metrics import get_metrics, metrics_reset
from llm.selectors import llm_cost_report
from llm.serializers import (
    LLMCacheClearRequestSerializer,
    LLMCacheClearSerializer,
    LLMCostQuerySerializer,
    LLMCostReportSerializer,
    LLMErrorSerializer,
    LLMMetricsQuerySerializer,
    LLMMetricsResetSerializer,
    LLMMetricsSerializer,
)

TAGS = ["llm"]
AUTH_ERRORS = {
    401: OpenApiResponse(LLMErrorSerializer, description="Not authenticated (no session, token or valid X-API-Key)."),
    403: OpenApiResponse(LLMErrorSerializer, description="Authenticated, but neither staff nor a service API key."),
}
BAD_REQUEST = {400: OpenApiResponse(LLMErrorSerializer, description="Invalid parameters (`validation_error`).")}


class LLMMetricsApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="llm_metrics",
        tags=TAGS,
        summary="LLM call metrics since the last reset: requests, tokens, errors, latency, cache and breaker.",
        parameters=[LLMMetricsQuerySerializer],
        responses={200: LLMMetricsSerializer, **BAD_REQUEST, **AUTH_ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = LLMMetricsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        metrics = get_metrics(since=params.validated_data.get("since"))
        return Response(LLMMetricsSerializer(metrics).data)


class LLMMetricsResetApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="llm_metrics_reset",
        tags=TAGS,
        summary="Count metrics from now on (the ledger keeps every row: it is the bill) and zero cache counters.",
        request=None,
        responses={200: LLMMetricsResetSerializer, **AUTH_ERRORS},
    )
    def post(self, request: Request) -> Response:
        return Response(LLMMetricsResetSerializer({"reset_at": metrics_reset()}).data)


class LLMCacheClearApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="llm_cache_clear",
        tags=TAGS,
        summary="Drop cached LLM answers: one task's (`{\"task\": name}`) or all (empty body).",
        request=LLMCacheClearRequestSerializer,
        responses={200: LLMCacheClearSerializer, **BAD_REQUEST, **AUTH_ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = LLMCacheClearRequestSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        task = body.validated_data["task"]
        cleared = cache_clear(task_name=task)
        return Response(LLMCacheClearSerializer({"cleared": cleared, "task": task}).data)


class LLMCostsApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="llm_costs",
        tags=TAGS,
        summary="Estimated LLM spend by task, model and mode over the last N days.",
        parameters=[LLMCostQuerySerializer],
        responses={200: LLMCostReportSerializer, **BAD_REQUEST, **AUTH_ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = LLMCostQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        report = llm_cost_report(since=timezone.now() - timedelta(days=params.validated_data["days"]))
        return Response(LLMCostReportSerializer(report).data)
