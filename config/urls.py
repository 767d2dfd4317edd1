from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, register_converter

from accounts import views as security_views
from accounts.allauth_urls import urlpatterns as allauth_urls
from accounts.guides import guide
from config.cli_downloads import cli_file, cli_page
from config.health import healthz, readyz
from config.metrics import metrics_view
from lib.ids import IdConverter
from orgs.invitation_views import invitation
from tokens.api import api
from tokens.views import dashboard
from trust import api as trust_api  # noqa: F401  (registers /api/v1/oidc/token)

register_converter(IdConverter, "id")

# /admin/ signs in through the same door as the app (2FA, guessing limits), not its own form.
admin.site.login = secure_admin_login(admin.site.login)

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.unavailable.server_error"

urlpatterns = [
    # The API first: Django tries the patterns in order, and every API request would pay for
    # matching the pages' patterns before its own (about a third of whoami's own CPU time).
    path("api/v1/", api.urls),
    path("", dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include(allauth_urls)),
    path("settings/security/", security_views.security, name="security"),
    path(
        "settings/security/sign-out-others/",
        security_views.sign_out_other_sessions,
        name="security-sign-out-others",
    ),
    path("", include("tokens.urls")),
    path("", include("trust.urls")),
    path("orgs/<slug:org>/", include("orgs.urls")),
    path("invitations/<str:secret>/", invitation, name="invitation"),
    path("orgs/<slug:org>/", include("events.urls")),
    path("docs/", guide, name="guide-index"),
    path("docs/<slug:slug>/", guide, name="guide"),
    path("cli/", cli_page, name="cli"),
    path("cli/<str:name>", cli_file, name="cli-file"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
