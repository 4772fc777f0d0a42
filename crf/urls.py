"""CRF pages: the participant's forms, form entry with its life cycle, and data queries."""

from django.urls import path, re_path

from .views import entry, grid, lifecycle, queries

FORM = "participants/<slug:study_id>/forms/<slug:form_code>/"
# A form collected at a visit (the follow-up MRI at M12): the same views, with the visit's code.
VISIT_FORM = "participants/<slug:study_id>/visits/<slug:visit_code>/forms/<slug:form_code>/"
STEP = r"(?P<step>complete|verify|lock|unlock)/$"

urlpatterns = [
    path("participants/<slug:study_id>/forms/", grid.participant_forms, name="participant-forms"),
    path(FORM, entry.crf_form, name="crf-form"),
    re_path(
        r"^participants/(?P<study_id>[-\w]+)/forms/(?P<form_code>[-\w]+)/" + STEP,
        lifecycle.crf_step,
        name="crf-step",
    ),
    path(f"{FORM}sign/", lifecycle.crf_sign, name="crf-sign"),
    path(f"{FORM}queries/", queries.query_raise, name="crf-query-raise"),
    path(f"{FORM}queries/<int:pk>/", queries.query_step, name="crf-query-step"),
    path(VISIT_FORM, entry.crf_form, name="crf-visit-form"),
    re_path(
        r"^participants/(?P<study_id>[-\w]+)/visits/(?P<visit_code>[-\w]+)/forms/(?P<form_code>[-\w]+)/"
        + STEP,
        lifecycle.crf_step,
        name="crf-visit-step",
    ),
    path(f"{VISIT_FORM}sign/", lifecycle.crf_sign, name="crf-visit-sign"),
    path(f"{VISIT_FORM}queries/", queries.query_raise, name="crf-visit-query-raise"),
    path(f"{VISIT_FORM}queries/<int:pk>/", queries.query_step, name="crf-visit-query-step"),
    path("queries/", queries.query_list, name="query-list"),
]
