"""API routes for provider batch jobs (seeds 002 and 003); the product-facing ones are catalog's."""

from django.urls import path

from batches import apis

urlpatterns = [
    path("batch/submit/<str:batch_id>", apis.BatchSubmitApi.as_view(), name="batch-submit"),
    path("batch/status/<str:batch_id>", apis.BatchStatusApi.as_view(), name="batch-status"),
    path("batch/process-results/<str:batch_id>", apis.BatchProcessResultsApi.as_view(), name="batch-process-results"),
    path("batch/cancel/<str:batch_id>", apis.BatchCancelApi.as_view(), name="batch-cancel"),
    path("batch/retry-failed/<str:batch_id>", apis.BatchRetryFailedApi.as_view(), name="batch-retry-failed"),
    path("batch/results/<str:batch_id>", apis.BatchResultsApi.as_view(), name="batch-results"),
    path("batch/list", apis.BatchListApi.as_view(), name="batch-list"),
]
