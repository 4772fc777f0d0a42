"""Top-level URLs: admin, API (with schema and docs), language switch, and the coordinator pages."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from trial.views.health import health, health_worker

urlpatterns = [
    path("healthz", health, name="health"),
    path("healthz/worker", health_worker, name="health-worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
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
