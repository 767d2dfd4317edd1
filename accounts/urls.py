from allauth.account import views as allauth_views
from django.urls import path

from accounts import views

# The sign-in and sign-out URLs Tokendesk always had, served by django-allauth (its other
# pages, /accounts/2fa/… and /accounts/reauthenticate/ among them, come from allauth.urls).
app_name = "accounts"
urlpatterns = [
    path("login/", allauth_views.login, name="login"),
    path("logout/", allauth_views.logout, name="logout"),
    path("confirm/<str:stash_id>/", views.reauthenticate, name="reauthenticate"),
]
