"""Reports pages: the study's reports and jobs, a job's progress and download, the download log."""

from .indextests.views import urlpatterns as index_test_pages
from .riskmodel.views import urlpatterns as risk_model_pages
from .views import urlpatterns as report_pages

urlpatterns = report_pages + index_test_pages + risk_model_pages
