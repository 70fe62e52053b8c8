"""API routes for data dictionaries (seed 001)."""

from django.urls import path

from catalog.datasets import apis

urlpatterns = [
    path("data-dictionaries/", apis.DataDictionaryListCreateApi.as_view(), name="data-dictionaries-list"),
    path("data-dictionaries/describe-field", apis.FieldDescribeApi.as_view(), name="data-dictionaries-describe-field"),
    path(
        "data-dictionaries/<int:dictionary_id>", apis.DataDictionaryDetailApi.as_view(), name="data-dictionaries-detail"
    ),
    path(
        "data-dictionaries/<int:dictionary_id>/entries/<int:entry_id>",
        apis.DataDictionaryEntryApi.as_view(),
        name="data-dictionaries-entry",
    ),
    path(
        "data-dictionaries/<int:dictionary_id>/export",
        apis.DataDictionaryExportApi.as_view(),
        name="data-dictionaries-export",
    ),
]
