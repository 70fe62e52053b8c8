"""Root URLs: admin, health, the versioned API and its schema/docs."""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api.errors import error_body
from config.health import healthz


def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown API paths answer in the API's error shape, not Django's HTML 404 page."""
    return JsonResponse(error_body(code="not_found", message="No API endpoint at this path."), status=404)


api_v1 = [
    path("", include("config.api.urls")),
    path("", include("catalog.products.urls")),
    path("", include("catalog.jobs.urls")),
    path("", include("catalog.leads.urls")),
    path("", include("catalog.datasets.urls")),
    path("", include("batches.urls")),
    path("", include("profiles.urls")),
    path("llm/", include("llm.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("e/", include("emails.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^api/", api_not_found),
]
