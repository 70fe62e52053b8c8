"""Product API (any signed-in user) and the product-facing batch endpoints of seed 002 (staff or service key)."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.products.models import Product
from catalog.products.selectors import product_get, products_list, products_status_report
from catalog.products.serializers import (
    ProductBatchCreatedSerializer,
    ProductBatchCreateQuerySerializer,
    ProductDetailQuerySerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductStatusReportSerializer,
)
from catalog.products.services.generation import MAX_BATCH_ITEMS, product_content_batch_create
from config.api.permissions import IsStaffOrServiceKey

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


class ProductDetailApi(APIView):
    @extend_schema(
        operation_id="products_retrieve",
        tags=["products"],
        summary="A product with its generated content in one locale, and that content's provenance.",
        parameters=[ProductDetailQuerySerializer],
        responses=ProductDetailSerializer,
    )
    def get(self, request: Request, slug: str) -> Response:
        params = ProductDetailQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        product = product_get(slug=slug)
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


class ProductBatchCreateApi(APIView):
    permission_classes = [IsStaffOrServiceKey]

    @extend_schema(
        operation_id="batch_create_products",
        tags=["batches"],
        summary="Create a content batch: N products per category × locales (submit it next).",
        parameters=[ProductBatchCreateQuerySerializer],
        request=None,
        responses={201: ProductBatchCreatedSerializer},
    )
    def post(self, request: Request) -> Response:
        params = ProductBatchCreateQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        locales = data["locales"]
        batch = product_content_batch_create(
            category_limit=data["category_limit"],
            locales=locales,
            include_completed=data["include_completed"],
            created_by=request.user,
            max_items=MAX_BATCH_ITEMS,
        )
        return _created(batch, locales=locales)


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
