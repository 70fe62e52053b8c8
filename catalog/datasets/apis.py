"""Data dictionary API (staff or a service key): describe a dataset from an uploaded file, a field
list or this project's models; read dictionaries; a person's edit of an entry; exports."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.datasets.llm import FIELD_DESCRIPTION, FieldInput
from catalog.datasets.selectors import (
    data_dictionaries_list,
    data_dictionary_entry_get,
    data_dictionary_export,
    data_dictionary_get,
)
from catalog.datasets.serializers import (
    DataDictionaryCreateSerializer,
    DataDictionaryDetailSerializer,
    DataDictionaryEntryEditSerializer,
    DataDictionaryEntrySerializer,
    DataDictionaryExportQuerySerializer,
    DataDictionaryListSerializer,
    DataDictionaryQueuedSerializer,
    FieldDescribeRequestSerializer,
    FieldDescriptionSerializer,
)
from catalog.datasets.services.entries import data_dictionary_entry_edit
from catalog.datasets.sources import DatasetSourceError, DatasetTooLargeError, dataset_source_read
from catalog.datasets.tasks import data_dictionary_request
from config.api.parsers import FormParser, JSONParser, MultiPartParser
from config.api.permissions import IsStaffOrServiceKey
from llm.requests import fallback_allowed, run_for_request
from llm.serializers import (
    PROVIDER_ERROR_RESPONSES,
    RETRY_AFTER_HEADER,
    FallbackQuerySerializer,
    fallback_requested,
)

TAGS = ["data dictionaries"]
MULTIPART_OVERHEAD_BYTES = 64 * 1024
ERRORS = {
    400: OpenApiResponse(description="Invalid request or source (`validation_error`, `dataset_invalid`)."),
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Neither staff nor a service API key."),
}
NOT_FOUND = {404: OpenApiResponse(description="No such data dictionary (or entry).")}


class DictionaryPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class DataDictionaryListCreateApi(generics.ListAPIView):
    permission_classes = [IsStaffOrServiceKey]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = DataDictionaryListSerializer
    pagination_class = DictionaryPagination
    filter_backends: list = []

    def get_queryset(self):  # noqa: ANN201 - DRF's signature
        return data_dictionaries_list()

    @extend_schema(
        operation_id="data_dictionaries_list",
        tags=TAGS,
        summary="Data dictionaries, newest first, with their status and entry counts.",
        responses={200: DataDictionaryListSerializer(many=True), 401: ERRORS[401], 403: ERRORS[403]},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="data_dictionaries_create",
        tags=TAGS,
        summary="Describe a dataset: an uploaded CSV / JSON / JSON Lines file, seed 001's field list, or models.",
        description=(
            "Each field gets a business name and a one-sentence description (one cached LLM call per field, "
            "run in bulk; the flagged rule-based text when the provider fails). A `name` that exists already "
            "reruns that dictionary: entries a person edited are kept as they are. Small runs (and every run "
            "without a broker) finish in the request (201); larger ones are queued (202) with a run id, and "
            "`GET /api/v1/data-dictionaries/{id}` shows their progress."
        ),
        request={
            "application/json": DataDictionaryCreateSerializer,
            "multipart/form-data": DataDictionaryCreateSerializer,
        },
        responses={
            201: DataDictionaryDetailSerializer,
            202: DataDictionaryQueuedSerializer,
            **ERRORS,
            413: OpenApiResponse(description="The file is larger than DATA_DICTIONARY_MAX_BYTES."),
        },
    )
    def post(self, request: Request) -> Response:
        max_bytes = settings.DATA_DICTIONARY_MAX_BYTES
        try:
            content_length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            content_length = 0
        if content_length > max_bytes + MULTIPART_OVERHEAD_BYTES:
            # Refused before the body is read: an oversized upload never reaches a temporary file.
            raise DatasetTooLargeError(f"The upload is larger than {max_bytes} bytes.", detail={"max_bytes": max_bytes})
        body = DataDictionaryCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        upload = data.get("file")
        if upload is not None and upload.size > max_bytes:
            raise DatasetTooLargeError(
                f"{upload.name} is larger than {max_bytes} bytes.", detail={"max_bytes": max_bytes}
            )
        if data.get("fields") and not data.get("name"):
            raise DatasetSourceError("A field list needs a `name` (the same name later reruns that dictionary).")
        source = dataset_source_read(
            upload_name=upload.name if upload is not None else None,
            upload_data=upload.read() if upload is not None else None,
            file_format=data.get("format"),
            field_list=[dict(field) for field in data["fields"]] if data.get("fields") else None,
            model_labels=data.get("models"),
        )
        outcome = data_dictionary_request(
            name=data.get("name") or source.default_name,
            source_kind=source.source_kind,
            source_name=source.source_name,
            fields=source.fields,
            created_by=request.user,
        )
        dictionary = outcome.dictionary
        if outcome.queued:
            queued = {
                "id": dictionary.pk,
                "name": dictionary.name,
                "status": dictionary.status,
                "run_id": outcome.run_id,
                "progress": {"fields_total": dictionary.fields_total, "fields_done": dictionary.fields_done},
            }
            return Response(DataDictionaryQueuedSerializer(queued).data, status=status.HTTP_202_ACCEPTED)
        detail = data_dictionary_get(dictionary_id=dictionary.pk)
        return Response(DataDictionaryDetailSerializer(detail).data, status=status.HTTP_201_CREATED)


class DataDictionaryDetailApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="data_dictionaries_retrieve",
        tags=TAGS,
        summary="A data dictionary with its entries, status and progress.",
        responses={200: DataDictionaryDetailSerializer, **ERRORS, **NOT_FOUND},
    )
    def get(self, request: Request, dictionary_id: int) -> Response:
        return Response(DataDictionaryDetailSerializer(data_dictionary_get(dictionary_id=dictionary_id)).data)


class DataDictionaryEntryApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="data_dictionaries_entry_edit",
        tags=TAGS,
        summary="A person's edit of an entry's business name or description; later runs keep it.",
        request=DataDictionaryEntryEditSerializer,
        responses={200: DataDictionaryEntrySerializer, **ERRORS, **NOT_FOUND},
    )
    def patch(self, request: Request, dictionary_id: int, entry_id: int) -> Response:
        entry = data_dictionary_entry_get(dictionary_id=dictionary_id, entry_id=entry_id)
        body = DataDictionaryEntryEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = data_dictionary_entry_edit(entry=entry, user=request.user, **body.validated_data)
        return Response(DataDictionaryEntrySerializer(entry).data)


class DataDictionaryExportApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[BaseRenderer, str]:
        # `format` here names the export (md, csv, json), not one of DRF's renderers: skip DRF's
        # format override, and answer every error as JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        operation_id="data_dictionaries_export",
        tags=TAGS,
        summary="The dictionary as a file: Markdown (default), CSV or JSON.",
        parameters=[DataDictionaryExportQuerySerializer],
        responses={
            (200, "text/markdown"): OpenApiTypes.STR,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
            **ERRORS,
            **NOT_FOUND,
        },
    )
    def get(self, request: Request, dictionary_id: int) -> HttpResponse:
        params = DataDictionaryExportQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        dictionary = data_dictionary_get(dictionary_id=dictionary_id)
        text, content_type, filename = data_dictionary_export(
            dictionary=dictionary, export_format=params.validated_data["format"]
        )
        response = HttpResponse(text, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class FieldDescribeApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="data_dictionaries_describe_field",
        tags=TAGS,
        summary="Describe one data field now (seed 001): a business name and a one-sentence description.",
        description=(
            "Nothing is stored. When the provider fails, the answer is the flagged rule-based description "
            "(`is_fallback`), unless `fallback=false` (query parameter or body field; default: the "
            "LLM_FALLBACK_FOR_REQUESTS setting): then a rate limit that outlasts the retries answers 429 with "
            "Retry-After, an outage or open circuit breaker 503, and an unusable model answer 502."
        ),
        parameters=[FallbackQuerySerializer, RETRY_AFTER_HEADER],
        request=FieldDescribeRequestSerializer,
        responses={200: FieldDescriptionSerializer, **ERRORS, **PROVIDER_ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        requested = fallback_requested(query_params=request.query_params, data=request.data)
        body = FieldDescribeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = {key: value for key, value in body.validated_data.items() if key != "fallback"}
        values.setdefault("field_name", values["field_path"].rsplit(".", 1)[-1])
        values["semantic_type"] = values.get("semantic_type") or None
        field_input = FieldInput(**values)
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
