"""API routes for job listings and feeds (seed 004)."""

from django.urls import path

from catalog.jobs import apis

urlpatterns = [
    path("jobs/", apis.JobListingListApi.as_view(), name="jobs-list"),
    path("jobs/refresh", apis.JobRefreshApi.as_view(), name="jobs-refresh"),
]
