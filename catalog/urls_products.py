"""API routes for products and the product-facing batch endpoints (seed 002)."""

urlpatterns: list = []
