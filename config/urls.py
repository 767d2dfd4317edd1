from django.contrib import admin
from django.urls import include, path

from tokens.api import api
from tokens.views import dashboard

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("", include("tokens.urls")),
    path("orgs/<slug:org>/", include("orgs.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
