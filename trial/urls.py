"""Coordinator pages. Included at the site root by config/urls.py."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .views import account, dashboard, identity_log, participants, screenings, twofactor

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", account.PasswordChangeView.as_view(), name="password-change"),
    path("screenings/", screenings.screening_log, name="screening-log"),
    path("screenings/new/", screenings.screening_new, name="screening-new"),
    path("screenings/<int:pk>/", screenings.screening_detail, name="screening-detail"),
    path("screenings/<int:pk>/enroll/", screenings.screening_enroll, name="screening-enroll"),
    path("screenings/<int:pk>/correct/", screenings.screening_correct, name="screening-correct"),
    path("participants/", participants.participant_list, name="participant-list"),
    path("participants/<slug:study_id>/", participants.participant_detail, name="participant-detail"),
    path("participants/<slug:study_id>/status/", participants.participant_status, name="participant-status"),
    path(
        "participants/<slug:study_id>/exams/", participants.participant_exams_upload, name="participant-exams"
    ),
    path("identity-log/", identity_log.identity_log, name="identity-log"),
    *twofactor.urlpatterns,
]
