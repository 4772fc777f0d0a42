"""Top-level URLs: admin, API (with schema and docs), language switch, and the coordinator pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

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
