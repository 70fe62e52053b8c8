"""Product API (any signed-in user) and the product-facing batch endpoints of seed 002 (staff or service key);
`batch/create` also makes lead-task batches (seed 003) through the catalog-level `catalog_batch_create`."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.leads.serializers import LeadBatchCreatedSerializer, LeadBatchCreateSerializer
from catalog.products.document import product_document
from catalog.products.models import Product
from catalog.products.selectors import product_get, products_list, products_status_report
from catalog.products.serializers import (
    ProductBatchCreatedSerializer,
    ProductBatchCreateQuerySerializer,
    ProductDetailQuerySerializer,
    ProductDetailSerializer,
    ProductDocumentSerializer,
    ProductListSerializer,
    ProductStatusReportSerializer,
)
from catalog.products.services.generation import product_content_batch_create
from catalog.services import BATCH_TASK_TYPES, PRODUCT_CONTENT, catalog_batch_create
from config.api.permissions import IsStaffOrServiceKey
from config.api.renderers import JSONRenderer
from config.errors import DomainError

TEST_BATCH_LOCALES = ("en-US",)


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    brand = django_filters.CharFilter(field_name="brand__slug", help_text="Brand slug.")
    processing_status = django_filters.ChoiceFilter(choices=Product.ProcessingStatus.choices)

    class Meta:
        model = Product
        fields = ["category", "brand", "processing_status"]


class ProductPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class ProductListApi(generics.ListAPIView):
    serializer_class = ProductListSerializer
    filterset_class = ProductFilter
    pagination_class = ProductPagination

    def get_queryset(self):  # noqa: ANN201 - DRF's signature
        return products_list()

    @extend_schema(operation_id="products_list", tags=["products"], summary="Products, filtered and paginated.")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class ProductDocumentRenderer(JSONRenderer):
    """`?format=document`: DRF picks a renderer by `format`, so the document is a (JSON) renderer's
    format, and the view answers seed 002's document when that renderer is the accepted one."""

    format = "document"


class ProductDetailApi(APIView):
    renderer_classes = [*APIView.renderer_classes, ProductDocumentRenderer]

    @extend_schema(
        operation_id="products_retrieve",
        tags=["products"],
        summary="A product with its generated content in one locale, and that content's provenance; or, with "
        "`?format=document`, seed 002's product document.",
        description="`format=document` answers seed 002's document (`product_input`, `images`, "
        "`ai_generated_content` for every locale, `customer_reviews`, `content_metadata`, `qa`): the shape "
        "`import_products` reads, so importing it again gives the same document.",
        parameters=[
            ProductDetailQuerySerializer,
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "document"],
                description="`document`: seed 002's product document instead of the API's own shape.",
            ),
        ],
        responses={
            200: PolymorphicProxySerializer(
                component_name="ProductDetailOrDocument",
                serializers=[ProductDetailSerializer, ProductDocumentSerializer],
                resource_type_field_name=None,
            ),
            400: OpenApiResponse(description="Unknown locale (`invalid_locale`) or invalid parameters."),
            401: OpenApiResponse(description="Not authenticated."),
            404: OpenApiResponse(description="No product with this slug, or an unknown `format`."),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        params = ProductDetailQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        product = product_get(slug=slug)
        if request.accepted_renderer.format == ProductDocumentRenderer.format:
            return Response(product_document(product))
        return Response(ProductDetailSerializer(product, context={"locale": params.validated_data["locale"]}).data)


def _created(batch, *, locales: list[str]) -> Response:  # noqa: ANN001 - batches.models.Batch
    product_count = batch.items.values("subject_id").distinct().count()
    body = {
        "batch_id": batch.batch_id,
        "name": batch.name,
        "status": batch.status,
        "task_name": batch.task_name,
        "item_count": batch.item_count,
        "product_count": product_count,
        "locales": locales,
    }
    return Response(ProductBatchCreatedSerializer(body).data, status=status.HTTP_201_CREATED)


def _task_type(request: Request) -> str:
    """`task_type` from the query string or the JSON body; product content when absent."""
    body = request.data if isinstance(request.data, dict) else {}
    task_type = request.query_params.get("task_type") or body.get("task_type") or PRODUCT_CONTENT
    if task_type not in BATCH_TASK_TYPES:
        raise DomainError(
            f"Unknown task_type {task_type!r}; one of {', '.join(BATCH_TASK_TYPES)}.", code="invalid_task_type"
        )
    return task_type


class ProductBatchCreateApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_create_products",
        tags=["batches"],
        summary="Create a batch (submit it next): product content, N products per category × locales "
        "(query parameters), or a lead task (task_type qualify, analyze, extract_pain_points or parse) for "
        "job_ids or the leads a filter selects (query parameters or a JSON body).",
        parameters=[
            ProductBatchCreateQuerySerializer,
            OpenApiParameter(
                "task_type", str, enum=list(BATCH_TASK_TYPES), description="Default product_content.", required=False
            ),
        ],
        request=LeadBatchCreateSerializer,
        responses={
            201: PolymorphicProxySerializer(
                component_name="BatchCreated",
                serializers=[ProductBatchCreatedSerializer, LeadBatchCreatedSerializer],
                resource_type_field_name=None,
            ),
            400: OpenApiResponse(description="Invalid input, or nothing to process."),
        },
    )
    def post(self, request: Request) -> Response:
        task_type = _task_type(request)
        if task_type != PRODUCT_CONTENT:
            return _lead_batch_create(request, task_type=task_type)
        params = ProductBatchCreateQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        locales = data["locales"]
        batch = catalog_batch_create(
            task_type=PRODUCT_CONTENT,
            category_limit=data["category_limit"],
            locales=locales,
            include_completed=data["include_completed"],
            created_by=request.user,
        )
        return _created(batch, locales=locales)


def _lead_batch_create(request: Request, *, task_type: str) -> Response:
    body = request.data if isinstance(request.data, dict) else {}
    data = request.query_params.copy()
    for key, value in body.items():
        if isinstance(value, list):
            data.setlist(key, [str(item) for item in value])
        else:
            data[key] = value
    data["task_type"] = task_type
    params = LeadBatchCreateSerializer(data=data)
    params.is_valid(raise_exception=True)
    batch = catalog_batch_create(created_by=request.user, **params.validated_data)
    created = {
        "batch_id": batch.batch_id,
        "name": batch.name,
        "status": batch.status,
        "task_name": batch.task_name,
        "task_type": task_type,
        "item_count": batch.item_count,
        "lead_count": batch.item_count,
    }
    return Response(LeadBatchCreatedSerializer(created).data, status=status.HTTP_201_CREATED)


class ProductBatchCreateTestApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_create_test",
        tags=["batches"],
        summary="Create a small test batch: one product per category, en-US only.",
        request=None,
        responses={201: ProductBatchCreatedSerializer},
    )
    def post(self, request: Request) -> Response:
        batch = product_content_batch_create(
            category_limit=1,
            locales=TEST_BATCH_LOCALES,
            include_completed=True,
            created_by=request.user,
            name="product content: test batch",
        )
        return _created(batch, locales=list(TEST_BATCH_LOCALES))


class ProductStatusApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_products_status",
        tags=["batches"],
        summary="Products by content processing status, overall and per category.",
        responses=ProductStatusReportSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(ProductStatusReportSerializer(products_status_report()).data)
