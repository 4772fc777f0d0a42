from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import identity_log, imaging, views

# No format-suffix routes (/screenings/1/history.json): their actions do not take `format`, so each was a
# 500; the API speaks JSON, chosen by the Accept header.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("studies", views.StudyViewSet, basename="study")
router.register("screenings", views.ScreeningViewSet, basename="screening")
router.register("participants", views.ParticipantViewSet, basename="participant")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("identity-log/", identity_log.IdentityReadList.as_view(), name="identity-log-api"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    path("auth/logout-all/", views.LogoutAllView.as_view(), name="api-logout-all"),
    path("screenings/<int:pk>/exams/", imaging.ScreeningExams.as_view(), name="screening-exams"),
    path(
        "participants/<slug:study_id>/exams/",
        imaging.ParticipantExams.as_view(),
        name="participant-exams",
    ),
    path("", include(router.urls)),
]
