from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("queries", views.QueryViewSet, basename="query")

FORM = "participants/<slug:study_id>/forms/<slug:form_code>/"
# A form collected at a visit (the follow-up MRI at M12): the same views, with the visit's code.
VISIT_FORM = "participants/<slug:study_id>/visits/<slug:visit_code>/forms/<slug:form_code>/"
STEP = r"(?P<step>complete|verify|lock|unlock)/$"

urlpatterns = [
    path("forms/", views.DataDictionaryView.as_view(), name="data-dictionary"),
    path("participants/<slug:study_id>/forms/", views.FormGridView.as_view(), name="form-grid"),
    path(FORM, views.FormView.as_view(), name="form"),
    path(f"{FORM}history/", views.FormHistoryView.as_view(), name="form-history"),
    path(f"{FORM}sign/", views.FormSignView.as_view(), name="form-sign"),
    re_path(
        r"^participants/(?P<study_id>[-\w]+)/forms/(?P<form_code>[-\w]+)/" + STEP,
        views.FormTransitionView.as_view(),
        name="form-transition",
    ),
    path(VISIT_FORM, views.FormView.as_view(), name="visit-form"),
    path(f"{VISIT_FORM}history/", views.FormHistoryView.as_view(), name="visit-form-history"),
    path(f"{VISIT_FORM}sign/", views.FormSignView.as_view(), name="visit-form-sign"),
    re_path(
        r"^participants/(?P<study_id>[-\w]+)/visits/(?P<visit_code>[-\w]+)/forms/(?P<form_code>[-\w]+)/"
        + STEP,
        views.FormTransitionView.as_view(),
        name="visit-form-transition",
    ),
    *router.urls,
]
