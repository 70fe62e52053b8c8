from django.urls import path

from llm import apis

app_name = "llm"

urlpatterns = [
    path("metrics", apis.LLMMetricsApi.as_view(), name="metrics"),
    path("costs", apis.LLMCostsApi.as_view(), name="costs"),
]
