from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("studies", views.StudyViewSet, basename="study")
router.register("screenings", views.ScreeningViewSet, basename="screening")
router.register("participants", views.ParticipantViewSet, basename="participant")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
