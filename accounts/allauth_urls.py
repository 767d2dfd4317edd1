"""django-allauth's pages under /accounts/, with Tokendesk's re-authentication in front of
every change to two-factor settings (allauth's own re-authentication check is off:
MFA_REAUTHENTICATION_REQUIRED). Single sign-on's login and callback are Tokendesk's wrappers
(accounts/sso.py) at allauth's own addresses, so the redirect URI to register at the provider
is allauth's: /accounts/oidc/<provider_id>/login/callback/."""

from allauth.account import views as account_views
from allauth.mfa.recovery_codes import views as recovery_views
from allauth.mfa.totp import views as totp_views
from allauth.mfa.webauthn import views as webauthn_views
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.cache import never_cache
from django.views.generic import RedirectView

from accounts import sso
from accounts.reauthentication import reauthentication_required


def guarded(view):
    """Re-authentication first; and pages that show a secret are never cached."""
    return never_cache(reauthentication_required(view))


def signup(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """No public sign-up page unless TOKENDESK_OPEN_SIGNUP: people are invited."""
    if not settings.TOKENDESK_OPEN_SIGNUP:
        raise Http404
    return account_views.signup(request, *args, **kwargs)


# allauth's own overview pages: Tokendesk has one page for both.
to_security = RedirectView.as_view(pattern_name="security")

urlpatterns = [
    path("signup/", signup, name="account_signup"),
    path("2fa/", to_security, name="mfa_index"),
    path("2fa/webauthn/", to_security, name="mfa_list_webauthn"),
    path("sessions/", to_security, name="usersessions_list"),
    path("2fa/totp/activate/", guarded(totp_views.activate_totp), name="mfa_activate_totp"),
    path("2fa/totp/deactivate/", guarded(totp_views.deactivate_totp), name="mfa_deactivate_totp"),
    path(
        "2fa/recovery-codes/generate/",
        guarded(recovery_views.generate_recovery_codes),
        name="mfa_generate_recovery_codes",
    ),
    path("2fa/webauthn/add/", guarded(webauthn_views.add_webauthn), name="mfa_add_webauthn"),
    path(
        "2fa/webauthn/keys/<int:pk>/remove/",
        guarded(webauthn_views.remove_webauthn),
        name="mfa_remove_webauthn",
    ),
    path("oidc/<str:provider_id>/login/", sso.login, name="openid_connect_login"),
    path("oidc/<str:provider_id>/login/callback/", sso.callback, name="openid_connect_callback"),
    path("", include("allauth.urls")),
]
