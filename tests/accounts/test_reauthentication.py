"""Sudo mode: a stale session's POST to a guarded view is stashed, the person confirms who
they are (password or 2FA code), and the original action then goes ahead once."""

import inspect
import re
import time

import pyotp
import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from orgs.models import Membership, Organization
from tests.factories import make_org, make_user
from tokens.models import Token

HTMX = {"HTTP_HX_REQUEST": "true"}
PASSWORD = "pw-for-tests"
CI_CREATE = reverse("tokens:ci-create", args=["acme"])
CI_FORM = {"name": "GitHub Actions", "description": "", "role": "ci"}

# Every view that mints, resets or rotates a token, revokes all, changes a role, flips the
# deploy-auth switch or changes 2FA settings.
GUARDED = {
    "tokens:personal-create",
    "tokens:personal-revoke-all",
    "tokens:ci-create",
    "tokens:ci-reset",
    "tokens:personal-rotate",
    "tokens:ci-rotate",
    "tokens:deployment-rotate",
    "tokens:deployment-generate",
    "tokens:deploy-auth-policy",
    "tokens:ci-policy",  # the organization's token lifecycle policy
    "trust:publisher-create",
    "trust:publisher-edit",
    "trust:publisher-delete",
    "orgs:member-role",
    "orgs:two-factor-policy",
    "orgs:sso-policy",
    "events:webhooks",  # adding an endpoint mints its signing secret
    "mfa_activate_totp",
    "mfa_deactivate_totp",
    "mfa_generate_recovery_codes",
    "mfa_add_webauthn",
    "mfa_remove_webauthn",
}
# What a view's source calls when it mints a token or widens access.
MINTING_CALLS = re.compile(
    r"\b(token_issue|token_regenerate|token_reset|token_rotate|tokens_revoke_all|"
    r"membership_change_role|organization_set_personal_token_deploys|"
    r"organization_set_require_two_factor|"
    r"publisher_create|publisher_update|publisher_delete)\("
)


def _views(resolver: URLResolver, namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _views(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern.callback


def test_the_guarded_views_are_exactly_the_listed_ones():
    guarded = {name for name, view in _views(get_resolver()) if _is_guarded(view)}
    assert guarded == GUARDED


def test_every_view_that_mints_or_widens_access_is_guarded():
    """A new minting view without @reauthentication_required fails here."""
    unguarded = []
    for name, view in _views(get_resolver()):
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (TypeError, OSError):
            continue
        if MINTING_CALLS.search(source) and not _is_guarded(view):
            unguarded.append(name)
    assert unguarded == []


def _is_guarded(view) -> bool:
    while view is not None:
        if getattr(view, "requires_reauthentication", False):
            return True
        view = getattr(view, "__wrapped__", None)
    return False


@pytest.fixture
def owner(db):
    make_org("acme", owner="owner@x.test")
    return Membership.objects.get(user__email="owner@x.test").user


@pytest.fixture
def stale_client(client, owner, settings):
    """Signed in longer ago than REAUTHENTICATION_MINUTES."""
    settings.REAUTHENTICATION_MINUTES = 10
    with time_machine.travel(timezone.now() - timezone.timedelta(minutes=11), tick=False):
        client.force_login(owner)
    return client


def test_a_fresh_sign_in_needs_no_confirmation(client, owner):
    client.force_login(owner)
    response = client.post(CI_CREATE, CI_FORM, **HTMX)
    assert "tdk_ci_" in response.content.decode()


def test_htmx_gets_the_dialog_then_the_original_post_goes_ahead(stale_client):
    asked = stale_client.post(CI_CREATE, CI_FORM, **HTMX)
    assert asked.status_code == 401
    assert asked["HX-Retarget"] == "#dialog-slot"
    body = asked.content.decode()
    assert "Confirm it is you" in body and "<dialog" in body
    assert not Token.objects.filter(kind=Token.Kind.CI).exists()
    action = re.search(r'hx-post="(/accounts/confirm/[^"]+/)"', body)[1]

    wrong = stale_client.post(action, {"password": "nope"}, **HTMX)
    assert wrong.status_code == 422
    assert "That is not your password." in wrong.content.decode()
    assert not Token.objects.filter(kind=Token.Kind.CI).exists()

    done = stale_client.post(action, {"password": PASSWORD}, **HTMX)
    assert done.status_code == 200
    assert "tdk_ci_" in done.content.decode()
    assert "no-store" in done["Cache-Control"]
    token = Token.objects.get(kind=Token.Kind.CI)
    assert token.name == "GitHub Actions"

    # The stash was used once; and now the session is fresh, so no question is asked.
    again = stale_client.post(action, {"password": PASSWORD}, **HTMX)
    assert again.status_code == 302
    assert Token.objects.filter(kind=Token.Kind.CI).count() == 1
    direct = stale_client.post(CI_CREATE, {**CI_FORM, "name": "second"}, **HTMX)
    assert "tdk_ci_" in direct.content.decode()


def test_without_javascript_a_page_asks_then_the_action_goes_ahead(stale_client):
    asked = stale_client.post(CI_CREATE, CI_FORM)
    assert asked.status_code == 302
    page = stale_client.get(asked["Location"])
    assert "Confirm it is you" in page.content.decode()
    done = stale_client.post(asked["Location"], {"password": PASSWORD})
    assert done.status_code == 200
    assert "tdk_ci_" in done.content.decode()
    assert Token.objects.filter(kind=Token.Kind.CI).count() == 1


def test_a_two_factor_code_also_confirms(stale_client, owner):
    secret = pyotp.random_base32()
    TOTP.activate(owner, secret)
    asked = stale_client.post(CI_CREATE, CI_FORM)
    wrong = stale_client.post(asked["Location"], {"code": "000000"})
    assert wrong.status_code == 422
    done = stale_client.post(asked["Location"], {"code": pyotp.TOTP(secret).now()})
    assert "tdk_ci_" in done.content.decode()


def test_an_unknown_or_forged_stash_changes_nothing(stale_client):
    response = stale_client.post("/accounts/confirm/forged/", {"password": PASSWORD})
    assert response.status_code == 302
    assert not Token.objects.exists()


def test_a_stash_belongs_to_its_session(stale_client, owner):
    asked = stale_client.post(CI_CREATE, CI_FORM)
    other = Client()
    other.force_login(owner)
    response = other.post(asked["Location"], {"password": PASSWORD})
    assert response.status_code == 302
    assert not Token.objects.filter(kind=Token.Kind.CI).exists()


def test_wrong_passwords_at_confirmation_are_limited(stale_client, settings):
    asked = stale_client.post(CI_CREATE, CI_FORM)
    for _ in range(settings.SIGN_IN_ATTEMPTS):
        assert stale_client.post(asked["Location"], {"password": "nope"}).status_code == 422
    response = stale_client.post(asked["Location"], {"password": PASSWORD})
    assert response.status_code == 422
    assert "Too many attempts" in response.content.decode()
    assert not Token.objects.filter(kind=Token.Kind.CI).exists()


def test_the_sign_in_time_is_what_counts(client, owner, settings):
    settings.REAUTHENTICATION_MINUTES = 10
    client.force_login(owner)
    with time_machine.travel(time.time() + 9 * 60):
        assert "tdk_ci_" in client.post(CI_CREATE, CI_FORM, **HTMX).content.decode()
    with time_machine.travel(time.time() + 11 * 60):
        assert "Confirm it is you" in client.post(CI_CREATE, CI_FORM, **HTMX).content.decode()


def _confirm(client, asked) -> object:
    action = re.search(r'hx-post="(/accounts/confirm/[^"]+/)"', asked.content.decode())[1]
    return client.post(action, {"password": PASSWORD}, **HTMX)


def test_a_role_change_waits_for_the_confirmation(stale_client, owner):
    dev = make_user("dev@x.test")
    membership = Membership.objects.create(
        user=dev, organization=Organization.objects.get(slug="acme"), role="member"
    )
    url = reverse("orgs:member-role", args=["acme", membership.pk])
    asked = stale_client.post(url, {"role": "super_admin"}, **HTMX)
    assert asked.status_code == 401
    membership.refresh_from_db()
    assert membership.role == "member"
    done = _confirm(stale_client, asked)
    assert done.status_code == 200
    assert done["HX-Trigger"]  # the member table refreshes
    membership.refresh_from_db()
    assert membership.role == "super_admin"


def test_the_deploy_auth_switch_waits_for_the_confirmation(stale_client):
    organization = Organization.objects.get(slug="acme")
    organization.allow_personal_token_deploys = True
    organization.save()
    url = reverse("tokens:deploy-auth-policy", args=["acme"])
    asked = stale_client.post(url, {}, **HTMX)
    organization.refresh_from_db()
    assert organization.allow_personal_token_deploys
    _confirm(stale_client, asked)
    organization.refresh_from_db()
    assert not organization.allow_personal_token_deploys


def test_turning_on_an_authenticator_app_waits_for_the_confirmation(stale_client, owner):
    from allauth.mfa.models import Authenticator

    stale_client.get(reverse("mfa_activate_totp"))
    secret = stale_client.session["mfa.totp.secret"]
    asked = stale_client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert asked.status_code == 302
    assert asked["Location"].startswith("/accounts/confirm/")
    assert not Authenticator.objects.filter(user=owner).exists()
    done = stale_client.post(asked["Location"], {"password": PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    assert Authenticator.objects.filter(user=owner, type="totp").exists()
