"""Single sign-on end to end against a real OpenID Connect provider on loopback
(tests/sso/provider/): discovery, authorization code flow with PKCE, the ID token's RS256
signature checked against the provider's keys, userinfo."""

import socket
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core import checks
from django.utils import timezone

from accounts.models import User
from orgs import invitations
from orgs.audit import Actor
from orgs.models import Invitation, Membership
from tests import factories
from tests.sso.idp import PROVIDER_ID, configure, sign_in_through_provider

pytestmark = pytest.mark.django_db


def signed_in_as(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_the_button_starts_the_code_flow_with_pkce(client, sso_settings, identity_provider):
    answer = client.get("/accounts/login/")
    assert "Sign in with Test IdP" in answer.content.decode()
    # The form's redirect to the provider is allowed by this page's CSP, and only that.
    policy = answer["Content-Security-Policy"]
    assert f"form-action 'self' {identity_provider.base}" in policy
    assert identity_provider.base not in client.get("/docs/")["Content-Security-Policy"]
    start = client.post(f"/accounts/oidc/{PROVIDER_ID}/login/", {"process": "login"})
    authorize = urlsplit(start["Location"])
    query = parse_qs(authorize.query)
    # The endpoint came from the provider's discovery document.
    assert f"{authorize.scheme}://{authorize.netloc}" == identity_provider.base
    assert authorize.path == "/o/authorize/"
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert set(query["scope"][0].split()) >= {"openid", "email"}


def test_a_new_person_from_an_allowed_domain_is_created_and_signed_in(client, sso_settings):
    answer = sign_in_through_provider(client, "new.person@allowed.test")

    assert answer.status_code == 302
    user = signed_in_as(client)
    assert user is not None
    assert user.email == "new.person@allowed.test"
    assert user.name == "New Person"
    assert not user.has_usable_password()
    account = SocialAccount.objects.get(user=user)
    assert account.provider == PROVIDER_ID
    # Claims from the signed ID token and from userinfo.
    assert account.extra_data["id_token"]["email"] == "new.person@allowed.test"
    assert account.extra_data["userinfo"]["email_verified"] is True
    assert client.get("/").status_code == 200


def test_an_uninvited_address_outside_the_allowed_domains_is_refused(client, sso_settings):
    answer = sign_in_through_provider(client, "stranger@elsewhere.test")

    assert answer.status_code == 403
    page = answer.content.decode()
    assert "There is no Tokendesk account for <strong>stranger@elsewhere.test</strong>" in page
    assert "No account was created." in page
    assert not User.objects.filter(email="stranger@elsewhere.test").exists()
    assert signed_in_as(client) is None


def test_an_existing_person_is_connected_and_keeps_the_password(client, sso_settings):
    existing = factories.make_user("Existing@elsewhere.test")
    users_before = User.objects.count()

    answer = sign_in_through_provider(client, "existing@elsewhere.test")

    assert answer.status_code == 302
    assert signed_in_as(client) == existing
    assert User.objects.count() == users_before
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user == existing
    existing.refresh_from_db()
    assert existing.has_usable_password()

    # The second time it is the connected account that signs in.
    client.logout()
    sign_in_through_provider(client, "existing@elsewhere.test")
    assert signed_in_as(client) == existing
    assert SocialAccount.objects.count() == 1


def test_an_address_the_provider_has_not_verified_is_refused(client, sso_settings):
    answer = sign_in_through_provider(client, "unverified@allowed.test")

    assert answer.status_code == 403
    assert "has not verified the e-mail address" in answer.content.decode()
    assert not User.objects.filter(email="unverified@allowed.test").exists()
    assert signed_in_as(client) is None


def test_missing_settings_warn_in_check_and_hide_the_button(client, settings, identity_provider):
    configure(settings, identity_provider.issuer, OIDC_CLIENT_SECRET="")

    warnings = [m for m in checks.run_checks() if m.id == "accounts.W001"]
    assert len(warnings) == 1
    assert "OIDC_CLIENT_SECRET is not set" in warnings[0].msg
    assert warnings[0].level == checks.WARNING
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "Sign in with" not in page.content.decode()
    assert client.post(f"/accounts/oidc/{PROVIDER_ID}/login/").status_code == 404
    # The rest of the site works: a password sign-in.
    factories.make_user("someone@example.test", password="a-long-password-1")
    assert client.login(email="someone@example.test", password="a-long-password-1")
    assert client.get("/").status_code == 200


def test_nothing_set_means_no_sso_and_no_warning(client, settings):
    settings.OIDC_SETTINGS = dict.fromkeys(settings.OIDC_SETTINGS, "")
    assert not [m for m in checks.run_checks() if m.id == "accounts.W001"]
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_issuer_is_a_clear_page_not_a_500(client, settings):
    configure(settings, f"http://127.0.0.1:{_closed_port()}/o")

    answer = client.post(f"/accounts/oidc/{PROVIDER_ID}/login/", {"process": "login"})

    assert answer.status_code == 502
    page = answer.content.decode()
    assert "Test IdP cannot be reached" in page
    assert "sign in with your e-mail and password" in page


def test_a_callback_with_a_made_up_code_is_refused_clearly(client, sso_settings):
    start = client.post(f"/accounts/oidc/{PROVIDER_ID}/login/", {"process": "login"})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]

    answer = client.get(
        f"/accounts/oidc/{PROVIDER_ID}/login/callback/", {"code": "made-up", "state": state}
    )

    assert answer.status_code == 401
    assert "did not complete" in answer.content.decode()
    assert signed_in_as(client) is None


def _invite(email: str):
    organization = factories.make_org("acme", owner="owner@example.test")
    owner = Membership.objects.get(organization=organization, role="owner")
    return invitations.invitation_create(
        organization=organization,
        email=email,
        role="member",
        by=owner,
        actor=Actor(user=owner.user),
    )


def test_an_invited_address_outside_the_allowed_domains_gets_an_account(client, sso_settings):
    sent = _invite("Stranger@elsewhere.test")

    answer = sign_in_through_provider(client, "stranger@elsewhere.test")

    assert answer.status_code == 302
    person = signed_in_as(client)
    assert person.email == "stranger@elsewhere.test"
    # They join the organization by accepting the invitation, signed in as themselves.
    accept = invitations.accept_path(sent.secret)
    client.post(accept)
    assert Membership.objects.filter(user=person, organization__slug="acme").exists()


def test_a_revoked_or_expired_invitation_lets_nobody_in(client, sso_settings):
    sent = _invite("stranger@elsewhere.test")
    Invitation.objects.filter(pk=sent.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert sign_in_through_provider(client, "stranger@elsewhere.test").status_code == 403

    owner = Membership.objects.get(role="owner")
    invitations.invitation_revoke(
        invitation=sent.invitation, by=owner, actor=Actor(user=owner.user)
    )
    assert sign_in_through_provider(client, "stranger@elsewhere.test").status_code == 403
    assert not User.objects.filter(email="stranger@elsewhere.test").exists()
