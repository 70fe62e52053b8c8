"""The catalog app's models, gathered from its sub-packages so the app label stays `catalog`.

Code inside catalog imports from the sub-package (`catalog.products.models`, `catalog.jobs.models`);
other apps may import from here.
"""

from catalog.datasets.models import DataDictionary, DataDictionaryEntry
from catalog.jobs.models import JobFeed, JobListing
from catalog.leads.models import Lead, LeadStageChange, Offering
from catalog.products.models import CONTENT_SECTIONS, LOCALE_CHOICES, LOCALES, Brand, Category, Product, ProductContent

__all__ = [
    "CONTENT_SECTIONS",
    "LOCALES",
    "LOCALE_CHOICES",
    "Brand",
    "Category",
    "DataDictionary",
    "DataDictionaryEntry",
    "JobFeed",
    "JobListing",
    "Lead",
    "LeadStageChange",
    "Offering",
    "Product",
    "ProductContent",
]
