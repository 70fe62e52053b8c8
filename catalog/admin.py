"""Catalog admin: products (with content and batch actions) and job feeds/listings."""

from catalog.datasets import admin as datasets_admin  # noqa: F401 - registering is importing
from catalog.jobs import admin as jobs_admin  # noqa: F401 - registering is importing
from catalog.leads import admin as leads_admin  # noqa: F401 - registering is importing
from catalog.products import admin as products_admin  # noqa: F401 - registering is importing
