from django.contrib import admin
from django.urls import include, path, register_converter

from accounts.guides import guide
from config.cli_downloads import cli_file, cli_page
from config.health import healthz, readyz
from lib.ids import IdConverter
from orgs.invitation_views import invitation
from tokens.api import api
from tokens.views import dashboard

register_converter(IdConverter, "id")

handler500 = "config.unavailable.server_error"

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("", include("tokens.urls")),
    path("orgs/<slug:org>/", include("orgs.urls")),
    path("invitations/<str:secret>/", invitation, name="invitation"),
    path("api/v1/", api.urls),
    path("docs/", guide, name="guide-index"),
    path("docs/<slug:slug>/", guide, name="guide"),
    path("cli/", cli_page, name="cli"),
    path("cli/<str:name>", cli_file, name="cli-file"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
