"""Reports pages: the study's reports and jobs, a job's progress and download, the download log."""

from .views import urlpatterns  # noqa: F401
