"""Single sign-on with one OpenID Connect provider (django-allauth's openid_connect provider,
configured from settings: accounts/oidc_settings.py). Who may come in, in one place:
`refusal`. The login and callback views wrap allauth's so an unreachable or broken issuer
is a page that says so, and the ID token's signature is always checked against the
issuer's published keys."""

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from allauth.account.internal.flows.login import get_authentication_records
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from allauth.socialaccount.providers.base.constants import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts import oidc_settings

logger = logging.getLogger(__name__)

# Why a sign-in through the provider was turned away (shown on account/sso_refused.html).
NO_EMAIL = "no_email"
UNVERIFIED = "unverified"
NOT_INVITED = "not_invited"
SOMEONE_ELSE = "someone_else"


def provider() -> dict | None:
    """The configured provider (`id`, `name`), or None when SSO is off or incomplete."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    if not apps:
        return None
    return {"id": apps[0]["provider_id"], "name": apps[0]["name"]}


def let_forms_reach_provider(response: HttpResponse) -> HttpResponse:
    """The sign-in page's "Sign in with …" form posts here, and the answer redirects to the
    provider: browsers hold that redirect to the page's CSP form-action, so the issuer's
    origin is added to it (on this page only)."""
    if provider() is not None:
        issuer = urlsplit(settings.OIDC_SETTINGS["OIDC_ISSUER_URL"])
        response._csp_update = {"form-action": [f"{issuer.scheme}://{issuer.netloc}"]}
    return response


def connected_account(user) -> SocialAccount | None:
    """This person's link to the configured provider, if they ever signed in with it."""
    configured = provider()
    if configured is None or not user.is_authenticated:
        return None
    return SocialAccount.objects.filter(user=user, provider=configured["id"]).first()


def reauthentication_url(user, stash_id: str) -> str | None:
    """Where "Confirm with <provider>" starts, for a person connected to the provider."""
    if connected_account(user) is None:
        return None
    return reverse("accounts:reauthenticate-sso", args=[stash_id])


def start_reauthentication(request: HttpRequest, next_url: str) -> HttpResponse:
    """Send the signed-in person to the provider to sign in again (OpenID Connect
    `prompt=login`); allauth's "redirect" process comes back to `next_url` without signing
    anyone in, and the adapter records the re-authentication if it is the same person."""
    configured = provider()
    if configured is None:
        raise Http404
    try:
        oidc = get_social_adapter().get_provider(request, configured["id"])
        return oidc.redirect(
            request,
            AuthProcess.REDIRECT,
            next_url=next_url,
            auth_params={"prompt": "login"},
        )
    except ISSUER_FAILURES as error:
        return _unavailable(request, error)


def is_reauthentication(sociallogin: SocialLogin) -> bool:
    return (sociallogin.state or {}).get("process") == AuthProcess.REDIRECT


def confirms(request: HttpRequest, sociallogin: SocialLogin) -> bool:
    """Did the provider sign in the same person, through the account connected before?"""
    return (
        request.user.is_authenticated
        and sociallogin.account.pk is not None
        and sociallogin.account.user_id == request.user.pk
    )


def missing_settings() -> list[str]:
    return oidc_settings.missing(settings.OIDC_SETTINGS)


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


# Other reasons a new person may join through SSO, registered by the apps that know them
# (accounts imports no other app): each takes the address and answers yes or no.
JOIN_RULES: list[Callable[[str], bool]] = []


def may_join(email: str) -> bool:
    """May a person without an account be created on first sign-in with this address?"""
    if email_domain(email) in settings.OIDC_ALLOWED_EMAIL_DOMAINS:
        return True
    return any(rule(email) for rule in JOIN_RULES)


def refusal(sociallogin: SocialLogin) -> str | None:
    """None to let this sign-in through; otherwise why not. The provider must say the address
    is verified; a person already known (connected before, or an account with that address)
    comes in; a new person only from an allowed domain or with a pending invitation."""
    addresses = sociallogin.email_addresses
    if not addresses:
        return NO_EMAIL
    if not addresses[0].verified:
        return UNVERIFIED
    if sociallogin.is_existing:  # connected before, or an account with this address
        return None
    if may_join(addresses[0].email):
        return None
    return NOT_INVITED


class VerifiedIdTokenAdapter(OpenIDConnectOAuth2Adapter):
    """allauth skips the ID token's signature when the token came straight from the token
    endpoint (allowed over TLS by OpenID Connect Core §3.1.3.7). Tokendesk checks it always:
    an issuer may be reached over plain HTTP inside a network, and the check is cheap."""

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


# What talking to an unreachable, slow or broken issuer raises (discovery that is not JSON
# or lacks an endpoint included).
ISSUER_FAILURES = (requests.RequestException, OAuth2Error, ValueError, KeyError)


def _unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.warning("single sign-on: the identity provider could not be used: %r", error)
    return render(
        request,
        "account/sso_unavailable.html",
        {"sso_provider": provider()},
        status=502,
    )


def _run(view_class, request: HttpRequest, provider_id: str) -> HttpResponse:
    configured = provider()
    if configured is None or configured["id"] != provider_id:
        raise Http404
    try:
        view = view_class.adapter_view(VerifiedIdTokenAdapter(request, provider_id))
        return view(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except ISSUER_FAILURES as error:
        return _unavailable(request, error)


def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    return _run(OAuth2LoginView, request, provider_id)


def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    return _run(OAuth2CallbackView, request, provider_id)


def signed_in_with_sso(request: HttpRequest) -> bool:
    """Did this session sign in through the configured provider? (allauth keeps a record of
    each way a session authenticated; an organization that requires SSO asks this.)"""
    configured = provider()
    if configured is None or not request.user.is_authenticated:
        return False
    return any(
        record.get("method") == "socialaccount" and record.get("provider") == configured["id"]
        for record in get_authentication_records(request, request.user)
    )
