"""Generic batch endpoints (seeds 002 and 003) for staff or X-API-Key clients.

Long work (uploading files, ingesting results) is queued to Celery (inline without a broker):
those endpoints answer 202 with the batch as it stands, and `status` shows the progress.
"""

from __future__ import annotations

import contextlib
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from batches.models import Batch
from batches.selectors import batch_get, batch_item_results, batch_items_list, batches_list
from batches.serializers import (
    BatchItemSerializer,
    BatchListQuerySerializer,
    BatchResultsQuerySerializer,
    BatchSerializer,
)
from batches.services import batch_cancel, batch_poll
from batches.services.common import ACTIVE
from batches.tasks import batch_ingest_enqueue, batch_retry_failed_enqueue, batch_submit_enqueue
from config.api.permissions import IsStaffOrServiceKey
from config.api.query import query_params_validated
from config.api.representation import RepresentedListAPIView, representation_for
from config.errors import ConflictError

TAGS = ["batches"]
ERRORS = {
    404: OpenApiResponse(description="No batch with this id."),
    409: OpenApiResponse(description="Not possible in the batch's current state."),
}


def _fresh(batch: Batch) -> Batch:
    """Re-read after queued work (it may have run inline), with the joins the serializer needs."""
    return batch_get(batch_id=batch.batch_id)


class BatchSubmitApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_submit",
        tags=TAGS,
        summary="Submit a batch to the provider (queued: uploads can be large).",
        request=None,
        responses={202: BatchSerializer, **ERRORS},
    )
    def post(self, request: Request, batch_id: str) -> Response:
        batch = batch_get(batch_id=batch_id)
        batch_submit_enqueue(batch=batch)
        return Response(BatchSerializer(_fresh(batch)).data, status=status.HTTP_202_ACCEPTED)


class BatchStatusApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_status",
        tags=TAGS,
        summary="A batch's status; asks the provider when the last poll is over a minute old.",
        responses={200: BatchSerializer, 404: ERRORS[404]},
    )
    def get(self, request: Request, batch_id: str) -> Response:
        batch = batch_get(batch_id=batch_id)
        if batch.status in ACTIVE and batch.provider != "offline":  # else batch_poll has nothing to ask
            # A provider mismatch (the one configured now is not this batch's): show what is stored.
            with contextlib.suppress(ConflictError):
                batch_poll(batch=batch)
            batch = _fresh(batch)
        return Response(representation_for(BatchSerializer).one(batch))


class BatchProcessResultsApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_process_results",
        tags=TAGS,
        summary="Ingest a finished batch's results (queued); idempotent.",
        request=None,
        responses={202: BatchSerializer, **ERRORS},
    )
    def post(self, request: Request, batch_id: str) -> Response:
        batch = batch_get(batch_id=batch_id)
        batch_ingest_enqueue(batch=batch)
        return Response(BatchSerializer(_fresh(batch)).data, status=status.HTTP_202_ACCEPTED)


class BatchCancelApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_cancel",
        tags=TAGS,
        summary="Cancel a batch; finished lines are still applied, the rest fail as cancelled.",
        request=None,
        responses={200: BatchSerializer, **ERRORS},
    )
    def post(self, request: Request, batch_id: str) -> Response:
        batch = batch_cancel(batch=batch_get(batch_id=batch_id))
        return Response(BatchSerializer(_fresh(batch)).data)


class BatchRetryFailedApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_retry_failed",
        tags=TAGS,
        summary="Resubmit an ingested batch's failed items as a new batch (queued for submission).",
        request=None,
        responses={201: BatchSerializer, 400: OpenApiResponse(description="No failed items."), **ERRORS},
    )
    def post(self, request: Request, batch_id: str) -> Response:
        retry = batch_retry_failed_enqueue(batch=batch_get(batch_id=batch_id))
        return Response(BatchSerializer(_fresh(retry)).data, status=status.HTTP_201_CREATED)


class BatchListApi(RepresentedListAPIView):
    permission_classes = [IsStaffOrServiceKey]
    serializer_class = BatchSerializer
    filter_backends: list = []

    def get_queryset(self):  # noqa: ANN201 - DRF hook
        params = query_params_validated(BatchListQuerySerializer, self.request.query_params)
        return batches_list(status=params.get("status"), task_name=params.get("task"))

    @extend_schema(
        operation_id="batch_list",
        tags=TAGS,
        summary="Batches, newest first (filter by status and task).",
        parameters=[BatchListQuerySerializer],
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class BatchResultsApi(RepresentedListAPIView):
    permission_classes = [IsStaffOrServiceKey]
    serializer_class = BatchItemSerializer
    filter_backends: list = []

    def get_queryset(self):  # noqa: ANN201 - DRF hook
        params = query_params_validated(BatchResultsQuerySerializer, self.request.query_params)
        self.batch = batch_get(batch_id=self.kwargs["batch_id"])
        return batch_items_list(batch=self.batch, status=params.get("status"))

    def representation_context(self, rows: list[Any]) -> dict[str, Any]:
        # The page's stored results in one lookup.
        return {**self.get_serializer_context(), "results": batch_item_results(batch=self.batch, items=rows)}

    @extend_schema(
        operation_id="batch_results",
        tags=TAGS,
        summary="A batch's items in line order: status, error, output summary, stored result (paginated).",
        parameters=[BatchResultsQuerySerializer],
        responses={200: BatchItemSerializer(many=True), 404: ERRORS[404]},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)
