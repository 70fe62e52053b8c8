"""Root URLs: admin, health, the versioned API and its schema/docs."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import URLResolver, include, path, re_path
from django.urls.resolvers import ResolverMatch, RoutePattern
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.api.errors import error_body
from config.api.throttling import login_throttled
from config.health import healthz
from config.metrics import metrics_view

# Django's error pages: JSON in the API's error shape under /api/, Django's own pages elsewhere.
handler400 = "config.api.errors.bad_request"
handler403 = "config.api.errors.permission_denied"
handler404 = "config.api.errors.page_not_found"
handler500 = "config.api.errors.server_error"


@csrf_exempt  # any method: an unknown path is a 404, not a CSRF failure
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Unknown API paths answer in the API's error shape, not Django's HTML 404 page."""
    return JsonResponse(error_body(code="not_found", message="No API endpoint at this path."), status=404)


class RememberingResolver(URLResolver):
    """A URLResolver that remembers the match of each path it resolved (up to `MAX_PATHS`, then anew).

    The versioned API's URLs are nine includes mounted at "": resolving a path tried every pattern of
    each include before it (~50 for an email), on every request. The match of a path never changes
    while the process runs; the resolver above builds its own ResolverMatch (and kwargs) from this one
    each time. A path that matches nothing is not remembered (its 404 is resolved again).
    """

    MAX_PATHS = 2048

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._matches: dict[str, ResolverMatch] = {}

    def resolve(self, path: object) -> ResolverMatch:
        path = str(path)
        found = self._matches.get(path)
        if found is None:
            found = super().resolve(path)
            if len(self._matches) >= self.MAX_PATHS:
                self._matches.clear()
            self._matches[path] = found
        return found


api_v1 = [
    path("", include("config.api.urls")),
    path("", include("catalog.products.urls")),
    path("", include("catalog.jobs.urls")),
    path("", include("catalog.leads.urls")),
    path("", include("catalog.datasets.urls")),
    path("", include("batches.urls")),
    path("", include("profiles.urls")),
    path("", include("emails.api_urls")),
    path("llm/", include("llm.urls")),
]

urlpatterns = [
    # Admin login attempts are throttled per address (API_THROTTLE_RATES["login"]).
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Prometheus: bearer METRICS_TOKEN, a staff session or a staff-scoped API key (config/metrics.py).
    path("metrics", metrics_view, name="metrics"),
    path("e/", include("emails.urls")),
    RememberingResolver(RoutePattern("api/v1/", is_endpoint=False), api_v1, app_name="api", namespace="v1"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's initializer as a script file: the CSP allows no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^api/", api_not_found),
]
# ESP tracking webhooks (django-anymail): mounted only with a shared secret, so nobody else can
# report bounces or complaints; they become suppressions (emails.suppressions).
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    urlpatterns.insert(0, path("e/anymail/", include("anymail.urls")))
