"""Leads API: leads by stage and score, seed 003's conversation endpoints, and the scraped-postings
batch. Staff or a service API key only; every call goes through one service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.leads import conversations as conv
from catalog.leads.funnel import lead_batch_process
from catalog.leads.selectors import conversation_totals, conversation_turns, lead_conversation_get, lead_get, leads_list
from catalog.leads.serializers import (
    BatchRunSerializer,
    ConversationAskSerializer,
    ConversationJobSerializer,
    ConversationSerializer,
    LeadDetailSerializer,
    LeadListSerializer,
    LeadQuerySerializer,
    ProcessScrapedSerializer,
    SummarySerializer,
    TurnResultSerializer,
)
from catalog.leads.services import lead_for_job, scraped_postings_upsert
from config.api.permissions import IsStaffOrServiceKey

LEADS_TAGS = ["leads"]
CONVERSATION_TAGS = ["conversations"]
DENIED = {
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Staff or a service API key only."),
}
NOT_FOUND = {404: OpenApiResponse(description="No such job, lead or conversation.")}
BAD_REQUEST = {400: OpenApiResponse(description="Invalid input (code and message in the body).")}


def _user(request: Request) -> Any:
    return request.user if request.user and request.user.is_authenticated else None


class LeadPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class LeadListApi(generics.ListAPIView):
    permission_classes = [IsStaffOrServiceKey]
    serializer_class = LeadListSerializer
    pagination_class = LeadPagination
    filter_backends: list = []  # filtering is the selector's, from validated query parameters

    def get_queryset(self):  # noqa: ANN201 - DRF hook
        params = LeadQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return leads_list(**params.validated_data)

    @extend_schema(
        operation_id="leads_list",
        tags=LEADS_TAGS,
        summary="Leads, best score first, filtered by stage, verdict, source and score.",
        parameters=[LeadQuerySerializer],
        responses={200: LeadListSerializer(many=True), **BAD_REQUEST, **DENIED},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class LeadDetailApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="leads_retrieve",
        tags=LEADS_TAGS,
        summary="A lead: qualification, analysis, pain points, ROI, suggested offerings, draft, stage history.",
        responses={200: LeadDetailSerializer, **NOT_FOUND, **DENIED},
    )
    def get(self, request: Request, lead_id: int) -> Response:
        return Response(LeadDetailSerializer(lead_get(lead_id=lead_id)).data)


def _turn_view(
    *, operation_id: str, summary: str, step: Callable[..., conv.TurnResult], ask: bool = False
) -> type[APIView]:
    """One conversation step as a POST endpoint: validate, find the job's lead, run the step."""
    body = ConversationAskSerializer if ask else ConversationJobSerializer

    class TurnApi(APIView):
        permission_classes = [IsStaffOrServiceKey]

        @extend_schema(
            operation_id=operation_id,
            tags=CONVERSATION_TAGS,
            summary=summary,
            request=body,
            responses={200: TurnResultSerializer, **BAD_REQUEST, **NOT_FOUND, **DENIED},
        )
        def post(self, request: Request) -> Response:
            params = body(data=request.data)
            params.is_valid(raise_exception=True)
            lead = lead_for_job(job_id=params.validated_data["job_id"])
            extra = {"question": params.validated_data["question"]} if ask else {}
            result = step(lead=lead, user=_user(request), **extra)
            return Response(TurnResultSerializer(result).data)

    TurnApi.__name__ = TurnApi.__qualname__ = "".join(part.title() for part in operation_id.split("_")) + "Api"
    return TurnApi


ConversationStartApi = _turn_view(
    operation_id="conversation_start",
    summary="Start a conversation about a job posting: the first turn analyses it as a lead.",
    step=conv.lead_conversation_start,
)
ConversationAskApi = _turn_view(
    operation_id="conversation_ask",
    summary="Ask a follow-up question (the whole conversation is the context).",
    step=conv.lead_conversation_ask,
    ask=True,
)
ConversationRoiApi = _turn_view(
    operation_id="conversation_roi",
    summary="ROI estimate of our best-fitting offering, with its assumptions.",
    step=conv.lead_conversation_roi,
)
ConversationPainPointsApi = _turn_view(
    operation_id="conversation_pain_points",
    summary="Pain points with evidence quoted from the posting.",
    step=conv.lead_conversation_pain_points,
)
ConversationServicesApi = _turn_view(
    operation_id="conversation_services",
    summary="Which of our offerings fit, and why.",
    step=conv.lead_conversation_services,
)
ConversationEmailApi = _turn_view(
    operation_id="conversation_email",
    summary="An outreach email draft, stored on the lead; a person approves and sends it from the admin.",
    step=conv.lead_conversation_email_draft,
)


class ConversationSummaryApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="conversation_summary",
        tags=CONVERSATION_TAGS,
        summary="The conversation's recap with each turn's billed tokens and the cumulative cost (no model call).",
        request=ConversationJobSerializer,
        responses={200: SummarySerializer, **BAD_REQUEST, **NOT_FOUND, **DENIED},
    )
    def post(self, request: Request) -> Response:
        params = ConversationJobSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        lead = lead_for_job(job_id=params.validated_data["job_id"])
        return Response(conv.lead_conversation_summary(lead=lead))


class ConversationCompleteApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="conversation_complete",
        tags=CONVERSATION_TAGS,
        summary="The whole workflow in one call: analysis, pain points, ROI, offerings, email draft; then the recap.",
        responses={200: SummarySerializer, **NOT_FOUND, **DENIED},
    )
    def get(self, request: Request, job_id: int) -> Response:
        lead = lead_for_job(job_id=job_id)
        return Response(conv.lead_analyze_conversationally(lead=lead, user=_user(request)))


class ConversationDetailApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="conversation_retrieve",
        tags=CONVERSATION_TAGS,
        summary="A lead conversation with its turns and the tokens each was billed.",
        responses={200: ConversationSerializer, **NOT_FOUND, **DENIED},
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        lead, conversation = lead_conversation_get(conversation_id=conversation_id)
        totals = conversation_totals(conversation=conversation)
        body = {
            "id": conversation.pk,
            "title": conversation.title,
            "lead_id": lead.pk,
            "job_id": lead.job_id,
            "provider": conversation.provider,
            "model": conversation.model,
            "created_at": conversation.created_at,
            "turns": conversation_turns(conversation=conversation),
            "totals": {**totals, "cost_usd": str(totals["cost_usd"])},
        }
        return Response(ConversationSerializer(body).data)


class BatchProcessScrapedApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_process_scraped",
        tags=["batches"],
        summary="Raw postings → job listings (marked scraped) and leads → one batch of task_type, submitted. "
        "wait_for_completion waits only where the batch can finish now (offline provider or no broker).",
        request=ProcessScrapedSerializer,
        responses={
            200: OpenApiResponse(BatchRunSerializer, description="The batch ran to the end during the call."),
            202: OpenApiResponse(BatchRunSerializer, description="Submitted; poll /api/v1/batch/status/{id}."),
            **BAD_REQUEST,
            **DENIED,
        },
    )
    def post(self, request: Request) -> Response:
        params = ProcessScrapedSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        job_ids = scraped_postings_upsert(postings=data["jobs"])
        result = lead_batch_process(
            task_type=data["task_type"],
            job_ids=job_ids,
            wait_for_completion=data["wait_for_completion"],
            model=data["model"] or None,
            created_by=_user(request),
        )
        body = BatchRunSerializer({**result.as_dict(), "job_ids": job_ids}).data
        return Response(body, status=status.HTTP_200_OK if result.waited else status.HTTP_202_ACCEPTED)
