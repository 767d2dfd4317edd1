from allauth.account import views as allauth_views
from django.urls import path

from accounts import sso, views


def login(request, *args, **kwargs):
    return sso.let_forms_reach_provider(allauth_views.login(request, *args, **kwargs))


# The sign-in and sign-out URLs Tokendesk always had, served by django-allauth (its other
# pages, /accounts/2fa/… and /accounts/reauthenticate/ among them, come from allauth.urls).
app_name = "accounts"
urlpatterns = [
    path("login/", login, name="login"),
    path("logout/", allauth_views.logout, name="logout"),
    path("confirm/<str:stash_id>/", views.reauthenticate, name="reauthenticate"),
    path(
        "confirm/<str:stash_id>/sso/",
        views.reauthenticate_with_provider,
        name="reauthenticate-sso",
    ),
    path(
        "confirm/<str:stash_id>/sso/done/",
        views.reauthenticated_with_provider,
        name="reauthenticated-sso",
    ),
]
