from django.urls import path

from llm import apis

app_name = "llm"

urlpatterns = [
    path("metrics", apis.LLMMetricsApi.as_view(), name="metrics"),
    path("metrics/reset", apis.LLMMetricsResetApi.as_view(), name="metrics-reset"),
    path("cache/clear", apis.LLMCacheClearApi.as_view(), name="cache-clear"),
    path("costs", apis.LLMCostsApi.as_view(), name="costs"),
]
