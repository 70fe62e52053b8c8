"""API routes for emails, mounted at /api/v1/emails/ (config/urls.py)."""

from django.urls import path

from emails import apis

urlpatterns = [
    path("emails/", apis.EmailListApi.as_view(), name="emails-list"),
    path("emails/generate", apis.EmailGenerateApi.as_view(), name="emails-generate"),
    path("emails/generate-batch", apis.EmailGenerateBatchApi.as_view(), name="emails-generate-batch"),
    path("emails/runs/<int:run_id>", apis.EmailRunDetailApi.as_view(), name="emails-run"),
    path("emails/validate", apis.EmailValidateApi.as_view(), name="emails-validate"),
    path("emails/metrics", apis.EmailMetricsApi.as_view(), name="emails-metrics"),
    path("emails/cache/clear", apis.EmailCacheClearApi.as_view(), name="emails-cache-clear"),
    path("emails/<int:email_id>", apis.EmailDetailApi.as_view(), name="emails-detail"),
    path("emails/<int:email_id>/send", apis.EmailSendApi.as_view(), name="emails-send"),
]
