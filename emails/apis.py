"""The emails API (/api/v1/emails/...): generate a person's weekly job email, batch runs, section
validation, metrics, cache clearing, and reading emails. People reach only their own (another
person's ids answer 404); batch runs, metrics, cache clearing and sending are staff-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.permissions import IsStaffOrServiceKey
from config.api.representation import RepresentedListAPIView, representation_for
from config.errors import NotFoundError
from emails.jobmail.selectors import email_for_user, emails_for_user, profiles_for_run
from emails.jobmail.services import (
    email_cache_clear,
    email_generate,
    email_metrics,
    email_run_create,
    email_run_execute,
    job_email_send,
    job_matches_for_person,
    job_matches_validate,
)
from emails.models import Email, EmailRun
from emails.serializers import (
    CacheClearRequestSerializer,
    CacheClearSerializer,
    EmailDetailSerializer,
    EmailListSerializer,
    EmailRunSerializer,
    GenerateBatchRequestSerializer,
    GenerateRequestSerializer,
    MetricsSerializer,
    SendResultSerializer,
    ValidateRequestSerializer,
    ValidationReportSerializer,
)
from emails.tasks import email_run_execute_task
from profiles.services import profile_get_or_create_for_request

TAGS = ["emails"]
NOT_FOUND = {404: OpenApiResponse(description="No such person or email, or not yours (`not_found`).")}


class EmailGenerateApi(APIView):
    @extend_schema(
        operation_id="emails_generate",
        tags=TAGS,
        summary="Generate this week's 6-section job email for a person (yourself; staff: anyone).",
        description="Sections are chosen from our data; the model writes the words (one call, ≤ 600 tokens). "
        "A person waiting gets the flagged rule-based email when the provider is down. Rewrites this week's "
        "email until it is sent. `send` is for staff.",
        request=GenerateRequestSerializer,
        responses={
            201: EmailDetailSerializer,
            **NOT_FOUND,
            409: OpenApiResponse(description="This week's email was sent already (`email_already_sent`)."),
            429: OpenApiResponse(
                description="Over EMAIL_GENERATION_RATE_LIMIT a minute (`email_generation_rate_limited`)."
            ),
            503: OpenApiResponse(description="The LLM provider is unavailable and fallbacks are off."),
        },
    )
    def post(self, request: Request) -> Response:
        body = GenerateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        profile = profile_get_or_create_for_request(user=request.user, user_id=data["user_id"])
        email = email_generate(
            profile=profile,
            language=data.get("language"),
            mock=data["mock"],
            template_variables=data["template_variables"],
            send=data["send"] and request.user.is_staff,
        )
        return Response(EmailDetailSerializer(email).data, status=status.HTTP_201_CREATED)


class EmailGenerateBatchApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="emails_generate_batch",
        tags=TAGS,
        summary="Generate this week's job emails for many people (staff): user ids or a filter.",
        description="Returns a run id with progress (`GET /api/v1/emails/runs/{run_id}`). With a broker the run "
        "is queued (202); on the embedded defaults it runs to the end within the request (200). People who "
        "already have this week's email, or unsubscribed, are skipped.",
        request=GenerateBatchRequestSerializer,
        responses={200: EmailRunSerializer, 202: EmailRunSerializer},
    )
    def post(self, request: Request) -> Response:
        body = GenerateBatchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        profile_ids = profiles_for_run(user_ids=data.get("user_ids"), **data.get("filter", {}))
        run = email_run_create(
            profile_ids=profile_ids,
            language=data["language"],
            mock=data["mock"],
            send=data["send"],
            template_variables=data["template_variables"],
            mode=data["mode"],
            created_by=request.user,
        )
        if settings.CELERY_BROKER_URL:
            email_run_execute_task.delay_on_commit(run.pk)
            return Response(EmailRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
        return Response(EmailRunSerializer(email_run_execute(run_id=run.pk)).data, status=status.HTTP_200_OK)


class EmailRunDetailApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="emails_run_retrieve",
        tags=TAGS,
        summary="A generation run's progress (staff).",
        responses={200: EmailRunSerializer, **NOT_FOUND},
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = EmailRun.objects.filter(pk=run_id).first()
        if run is None:
            raise NotFoundError(f"No run {run_id}.", detail={"run_id": run_id})
        return Response(EmailRunSerializer(run).data)


class EmailValidateApi(APIView):
    @extend_schema(
        operation_id="emails_validate",
        tags=TAGS,
        summary="Validate job matches: given sections (key → job ids), or the ones a person would get now.",
        description="Errors (unknown or missing sections, wrong order, a job twice, inactive jobs, oversized "
        "sections) make it invalid; short sections are warnings. For a person each section also says where "
        "its jobs came from and why it is short.",
        request=ValidateRequestSerializer,
        responses={200: ValidationReportSerializer, **NOT_FOUND},
    )
    def post(self, request: Request) -> Response:
        body = ValidateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "user_id" in data:
            profile = profile_get_or_create_for_request(user=request.user, user_id=data["user_id"])
            report = job_matches_for_person(profile=profile, language=data.get("language"))
        else:
            report = job_matches_validate(sections=data["sections"])
        return Response(ValidationReportSerializer(report).data)


class EmailMetricsApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="emails_metrics",
        tags=TAGS,
        summary="Job email generation metrics (staff): requests, cache hits, response time, tokens; per language.",
        responses={200: MetricsSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(MetricsSerializer(email_metrics()).data)


class EmailCacheClearApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="emails_cache_clear",
        tags=TAGS,
        summary="Forget cached email words (staff): one person's, or everyone's and the shared job lines.",
        request=CacheClearRequestSerializer,
        responses={200: CacheClearSerializer, **NOT_FOUND},
    )
    def post(self, request: Request) -> Response:
        body = CacheClearRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user_id = body.validated_data.get("user_id")
        user = profile_get_or_create_for_request(user=request.user, user_id=user_id).owner if user_id else None
        result = email_cache_clear(user=user)
        return Response(CacheClearSerializer({**result, "user_id": user_id}).data)


class EmailListApi(RepresentedListAPIView):
    serializer_class = EmailListSerializer
    queryset = Email.objects.none()  # the real one comes from get_queryset

    @extend_schema(
        operation_id="emails_list",
        tags=TAGS,
        summary="Your emails, newest first (staff: everyone's); filter with ?kind=.",
        parameters=[OpenApiParameter("kind", str, enum=Email.Kind.values, required=False)],
        responses={200: EmailListSerializer(many=True)},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Email]:
        if getattr(self, "swagger_fake_view", False):
            return Email.objects.none()
        queryset = emails_for_user(user=self.request.user)
        kind = self.request.query_params.get("kind")
        if kind in Email.Kind.values:
            queryset = queryset.filter(kind=kind)
        return queryset


class EmailDetailApi(APIView):
    @extend_schema(
        operation_id="emails_retrieve",
        tags=TAGS,
        summary="One email: subject, language, sections with their jobs, HTML, text part and status.",
        responses={200: EmailDetailSerializer, **NOT_FOUND},
    )
    def get(self, request: Request, email_id: int) -> Response:
        email = email_for_user(user=request.user, email_id=email_id)
        if email is None:
            raise NotFoundError(f"No email {email_id}.", detail={"id": email_id})
        return Response(representation_for(EmailDetailSerializer).one(email))


class EmailSendApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="emails_send",
        tags=TAGS,
        summary="Send a generated job email now (staff), at most once; unsubscribed addresses are never sent to.",
        request=None,
        responses={200: SendResultSerializer, **NOT_FOUND},
    )
    def post(self, request: Request, email_id: int) -> Response:
        email = email_for_user(user=request.user, email_id=email_id)
        if email is None or email.kind != Email.Kind.JOB_RECOMMENDATION:
            raise NotFoundError(f"No job email {email_id}.", detail={"id": email_id})
        sent = job_email_send(email_id=email.pk)
        email.refresh_from_db()
        result = {"id": email.pk, "sent": sent, "status": email.status, "error": email.error}
        return Response(SendResultSerializer(result).data)
