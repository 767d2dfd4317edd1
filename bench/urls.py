"""The project's URLs plus the comparison endpoints under /bench/."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as project_urlpatterns

DEPLOY_PATH = "orgs/<slug:org>/projects/<slug:project>/deployments"

urlpatterns = [path("bench/tdk-noauth/", views.twin_api.urls)]
for _scheme in views.DRF_SCHEMES:
    _whoami, _deploy = views.drf_views(_scheme)
    urlpatterns += [
        path(f"bench/{_scheme}/whoami", _whoami, name=f"bench-{_scheme}-whoami"),
        path(f"bench/{_scheme}/{DEPLOY_PATH}", _deploy, name=f"bench-{_scheme}-deploy"),
    ]
urlpatterns += project_urlpatterns
