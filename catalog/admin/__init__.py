"""Catalog admin: products (with content and batch actions) and job feeds/listings."""

from catalog.admin import jobs, products  # noqa: F401 - registering is importing
