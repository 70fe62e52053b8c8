"""Staff/service endpoints over the llm layer: live metrics and the cost report."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import IsStaffOrServiceKey
from llm.metrics import get_metrics
from llm.selectors import llm_cost_report
from llm.serializers import (
    LLMCostQuerySerializer,
    LLMCostReportSerializer,
    LLMMetricsQuerySerializer,
    LLMMetricsSerializer,
)


class LLMMetricsApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="llm_metrics",
        tags=["llm"],
        summary="LLM call metrics: requests, tokens, errors, cache and circuit breaker state.",
        parameters=[LLMMetricsQuerySerializer],
        responses=LLMMetricsSerializer,
    )
    def get(self, request: Request) -> Response:
        params = LLMMetricsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        metrics = get_metrics(since=params.validated_data.get("since"))
        return Response(LLMMetricsSerializer(metrics).data)


class LLMCostsApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="llm_costs",
        tags=["llm"],
        summary="Estimated LLM spend by task, model and mode over the last N days.",
        parameters=[LLMCostQuerySerializer],
        responses=LLMCostReportSerializer,
    )
    def get(self, request: Request) -> Response:
        params = LLMCostQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        report = llm_cost_report(since=timezone.now() - timedelta(days=params.validated_data["days"]))
        return Response(LLMCostReportSerializer(report).data)
