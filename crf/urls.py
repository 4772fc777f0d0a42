"""CRF pages: the participant's forms, form entry with its life cycle, and data queries."""

from django.urls import path, re_path

from .views import entry, grid, lifecycle, queries

FORM = "participants/<slug:study_id>/forms/<slug:form_code>/"

urlpatterns = [
    path("participants/<slug:study_id>/forms/", grid.participant_forms, name="participant-forms"),
    path(FORM, entry.crf_form, name="crf-form"),
    re_path(
        r"^participants/(?P<study_id>[-\w]+)/forms/(?P<form_code>[-\w]+)/(?P<step>complete|verify|lock|unlock)/$",
        lifecycle.crf_step,
        name="crf-step",
    ),
    path(f"{FORM}sign/", lifecycle.crf_sign, name="crf-sign"),
    path(f"{FORM}queries/", queries.query_raise, name="crf-query-raise"),
    path(f"{FORM}queries/<int:pk>/", queries.query_step, name="crf-query-step"),
    path("queries/", queries.query_list, name="query-list"),
]
