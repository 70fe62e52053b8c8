"""API routes for leads, seed 003's conversation endpoints (no trailing slash) and the scraped-postings batch."""

from django.urls import path

from catalog.leads import apis

urlpatterns = [
    path("leads/", apis.LeadListApi.as_view(), name="leads-list"),
    path("leads/<int:lead_id>", apis.LeadDetailApi.as_view(), name="leads-detail"),
    path("conversation/start", apis.ConversationStartApi.as_view(), name="conversation-start"),
    path("conversation/ask", apis.ConversationAskApi.as_view(), name="conversation-ask"),
    path("conversation/roi", apis.ConversationRoiApi.as_view(), name="conversation-roi"),
    path("conversation/pain-points", apis.ConversationPainPointsApi.as_view(), name="conversation-pain-points"),
    path("conversation/services", apis.ConversationServicesApi.as_view(), name="conversation-services"),
    path("conversation/email", apis.ConversationEmailApi.as_view(), name="conversation-email"),
    path("conversation/summary", apis.ConversationSummaryApi.as_view(), name="conversation-summary"),
    path("conversation/complete/<int:job_id>", apis.ConversationCompleteApi.as_view(), name="conversation-complete"),
    path("conversation/<int:conversation_id>", apis.ConversationDetailApi.as_view(), name="conversation-detail"),
    path("batch/process-scraped", apis.BatchProcessScrapedApi.as_view(), name="batch-process-scraped"),
]
