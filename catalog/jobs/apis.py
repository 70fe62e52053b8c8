"""Jobs API: the listing list (any signed-in user) and the feed refresh trigger (staff or service key)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.jobs.selectors import job_listings_list
from catalog.jobs.serializers import (
    JobListingQuerySerializer,
    JobListingSerializer,
    JobRefreshRequestSerializer,
    JobRefreshResponseSerializer,
)
from catalog.jobs.tasks import job_feeds_refresh_request
from config.api.permissions import IsStaffOrServiceKey
from config.api.query import query_params_validated
from config.api.representation import RepresentedListAPIView


class JobListingListApi(RepresentedListAPIView):
    serializer_class = JobListingSerializer
    filter_backends: list = []  # filtering is the selector's, from validated query parameters

    def get_queryset(self):
        return job_listings_list(**query_params_validated(JobListingQuerySerializer, self.request.query_params))

    @extend_schema(
        operation_id="jobs_list",
        tags=["jobs"],
        summary="Active job listings, newest first, filtered by text, location, remote, skill and date.",
        parameters=[JobListingQuerySerializer],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class JobRefreshApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="jobs_refresh",
        tags=["jobs"],
        summary="Refresh job feeds: queued for a worker (202), or run now when there is no broker (200).",
        request=JobRefreshRequestSerializer,
        responses={
            200: OpenApiResponse(JobRefreshResponseSerializer, description="Ran inline (no broker); the summary."),
            202: OpenApiResponse(
                JobRefreshResponseSerializer, description="Queued for a worker; each feed's outcome shows in the admin."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = JobRefreshRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = job_feeds_refresh_request(feed_ids=body.validated_data.get("feed_ids") or None)
        if outcome.queued or outcome.report is None:  # no report: queued
            payload = {"status": "queued", "task_id": outcome.task_id, "feeds": None, "totals": None}
            return Response(payload, status=status.HTTP_202_ACCEPTED)
        report = outcome.report.as_dict()
        payload = {"status": "done", "task_id": None, **report}
        return Response(payload, status=status.HTTP_200_OK)
