"""The project's URLs plus the comparison endpoints under /bench/.

The project's API comes first, then the twins, then the rest: each scheme's endpoint and its
twin resolve after about the same number of URL patterns. (With the bench patterns first, the
real API paid for nine failed matches that a deployment never has.)"""

from django.urls import path

from bench import views
from config.urls import urlpatterns as project_urlpatterns

DEPLOY_PATH = "orgs/<slug:org>/projects/<slug:project>/deployments"

api, *rest = project_urlpatterns
assert str(api.pattern) == "api/v1/", "the project's URLs start with the API"
urlpatterns = [api, path("bench/tdk-noauth/", views.twin_api.urls)]
for _scheme in views.DRF_SCHEMES:
    _whoami, _deploy = views.drf_views(_scheme)
    urlpatterns += [
        path(f"bench/{_scheme}/whoami", _whoami, name=f"bench-{_scheme}-whoami"),
        path(f"bench/{_scheme}/{DEPLOY_PATH}", _deploy, name=f"bench-{_scheme}-deploy"),
    ]
urlpatterns += rest
