"""The API's URLs, /api/v1/..., one namespace ("api") over the apps that serve them."""

from crf.apis.urls import urlpatterns as crf_urls
from followup.apis.urls import urlpatterns as followup_urls
from reports.apis import urlpatterns as reports_urls
from trial.apis.urls import urlpatterns as trial_urls

app_name = "api"
urlpatterns = trial_urls + crf_urls + followup_urls + reports_urls
