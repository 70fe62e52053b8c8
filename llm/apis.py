"""Staff/service endpoints over the llm layer: live metrics and their reset, the answer cache, the
cost report, and seed 001's field description as a request with a person waiting."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import IsStaffOrServiceKey
from llm.cache import cache_clear
from llm.fields import FIELD_DESCRIPTION, FieldInput
from llm.metrics import get_metrics, metrics_reset
from llm.requests import fallback_allowed, run_for_request
from llm.selectors import llm_cost_report
from llm.serializers import (
    FallbackQuerySerializer,
    FieldDescribeRequestSerializer,
    FieldDescriptionSerializer,
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
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again (always on 429; on 503 when known).",
)


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


class FieldDescribeApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="llm_field_describe",
        tags=TAGS,
        summary="Describe one data field now (seed 001): a business name and a one-sentence description.",
        description=(
            "When the provider fails, the answer is the flagged rule-based description (`is_fallback`), unless "
            "`fallback=false` (query parameter or body field; default: the LLM_FALLBACK_FOR_REQUESTS setting): "
            "then a rate limit that outlasts the retries answers 429 with Retry-After, an outage or open circuit "
            "breaker 503, and an unusable model answer 502."
        ),
        parameters=[FallbackQuerySerializer, RETRY_AFTER],
        request=FieldDescribeRequestSerializer,
        responses={
            200: FieldDescriptionSerializer,
            **BAD_REQUEST,
            **AUTH_ERRORS,
            429: OpenApiResponse(LLMErrorSerializer, description="The provider's rate limit (`llm_rate_limited`)."),
            502: OpenApiResponse(LLMErrorSerializer, description="No usable model answer (`llm_bad_answer`)."),
            503: OpenApiResponse(LLMErrorSerializer, description="Provider down or breaker open (`llm_unavailable`)."),
        },
    )
    def post(self, request: Request) -> Response:
        query = FallbackQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = FieldDescribeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        requested = query.validated_data["fallback"]
        if requested is None:
            requested = body.validated_data["fallback"]
        field_input = FieldInput(**body.field_input())
        result = run_for_request(
            FIELD_DESCRIPTION,
            field_input,
            allow_fallback=fallback_allowed(requested=requested),
            user_id=request.user.pk if request.user.is_authenticated else None,
        )
        answer = {
            "field_path": field_input.field_path,
            "business_name": result.output.business_name,
            "description": result.output.description,
            "is_fallback": result.is_fallback,
            "fallback_reason": result.provenance.fallback_reason,
            "provider": result.provenance.provider,
            "model": result.provenance.model,
            "cached": result.cached,
        }
        return Response(FieldDescriptionSerializer(answer).data)
