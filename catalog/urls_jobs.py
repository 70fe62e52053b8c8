"""API routes for job listings and feeds (seed 004)."""

from django.urls import path

from catalog import jobs_apis

urlpatterns = [
    path("jobs/", jobs_apis.JobListingListApi.as_view(), name="jobs-list"),
    path("jobs/refresh", jobs_apis.JobRefreshApi.as_view(), name="jobs-refresh"),
]
