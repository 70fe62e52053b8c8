"""API routes for products and the product-facing batch endpoints (seed 002)."""

from django.urls import path

from catalog.products import apis

urlpatterns = [
    path("products/", apis.ProductListApi.as_view(), name="products-list"),
    path("products/<slug:slug>/", apis.ProductDetailApi.as_view(), name="products-detail"),
    # Seed 002's paths (no trailing slash); the other batch endpoints live in batches/urls.py.
    path("batch/create", apis.ProductBatchCreateApi.as_view(), name="batch-create"),
    path("batch/create-test", apis.ProductBatchCreateTestApi.as_view(), name="batch-create-test"),
    path("batch/products/status", apis.ProductStatusApi.as_view(), name="batch-products-status"),
]
