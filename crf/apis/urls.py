from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("queries", views.QueryViewSet, basename="query")

FORM = "participants/<slug:study_id>/forms/<slug:form_code>/"

urlpatterns = [
    path("forms/", views.DataDictionaryView.as_view(), name="data-dictionary"),
    path("participants/<slug:study_id>/forms/", views.FormGridView.as_view(), name="form-grid"),
    path(FORM, views.FormView.as_view(), name="form"),
    path(f"{FORM}history/", views.FormHistoryView.as_view(), name="form-history"),
    path(f"{FORM}sign/", views.FormSignView.as_view(), name="form-sign"),
    re_path(
        r"^participants/(?P<study_id>[-\w]+)/forms/(?P<form_code>[-\w]+)/(?P<step>complete|verify|lock|unlock)/$",
        views.FormTransitionView.as_view(),
        name="form-transition",
    ),
    *router.urls,
]
