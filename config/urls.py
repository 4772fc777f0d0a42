"""Top-level URLs: admin, API (with schema and docs), language switch, and the coordinator pages."""

from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound

from trial.views.health import health, health_worker

urlpatterns = [
    path("healthz", health, name="health"),
    path("healthz/worker", health_worker, name="health-worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the Content-Security-Policy allows no
    # inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("crf.urls")),
    path("", include("followup.urls")),
    path("", include("reports.urls")),
    path("", include("trial.urls")),
]

# The load test's floor (config/bench_floor.py): only on a server the bench starts with the setting on.
if settings.BENCH_FLOOR_ENDPOINT:
    from .bench_floor import FloorView

    urlpatterns.insert(0, path("api/v1/bench/floor/", FloorView.as_view(), name="bench-floor"))


def not_found(request, exception):
    """The 404 page; under /api/ the API's JSON answer instead, the same as a view's 404 (an unknown URL,
    or a path value its pattern refuses, such as a case number that is not a number)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return page_not_found(request, exception)


handler404 = not_found
