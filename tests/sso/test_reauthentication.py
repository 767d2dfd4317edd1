"""Someone who signs in with SSO (and may have no password) confirms who they are for a
guarded action by signing in at the provider again."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from orgs.models import Membership, Organization
from tests import factories
from tests.sso.idp import sign_in_through_provider, through_provider
from tokens.models import Token

pytestmark = pytest.mark.django_db

CI_FORM = {"name": "GitHub Actions", "description": "", "role": "ci"}


def _stale_owner(client):
    sign_in_through_provider(client, "new.person@allowed.test")
    person = User.objects.get(email="new.person@allowed.test")
    organization = Organization.objects.create(slug="acme", name="Acme")
    Membership.objects.create(user=person, organization=organization, role="owner")
    return person


def test_a_sso_person_confirms_at_the_provider_and_the_token_is_created(client, sso_settings):
    _stale_owner(client)
    create = reverse("tokens:ci-create", args=["acme"])
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=True):
        asked = client.post(create, CI_FORM)
        assert asked.status_code == 302
        page = client.get(asked["Location"]).content.decode()
        assert "Confirm with Test IdP" in page
        link = page.split('href="/accounts/confirm/', 1)[1].split('"', 1)[0]

        start = client.get(f"/accounts/confirm/{link}")
        assert start.status_code == 302
        # The provider is asked to sign the person in again, not to reuse its session.
        assert parse_qs(urlsplit(start["Location"]).query)["prompt"] == ["login"]
        back = through_provider(client, start["Location"], "new.person@allowed.test")
        assert back.status_code == 302
        done = client.get(back["Location"])

    assert done.status_code in (200, 302)
    assert Token.objects.filter(name="GitHub Actions").count() == 1


def test_someone_else_at_the_provider_confirms_nothing(client, sso_settings):
    _stale_owner(client)
    factories.make_user("existing@elsewhere.test")
    create = reverse("tokens:ci-create", args=["acme"])
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=True):
        asked = client.post(create, CI_FORM)
        stash_id = asked["Location"].rstrip("/").rsplit("/", 1)[1]
        start = client.get(reverse("accounts:reauthenticate-sso", args=[stash_id]))
        back = through_provider(client, start["Location"], "existing@elsewhere.test")
        assert back.status_code == 403
        assert "not the account connected to you" in back.content.decode()
        again = client.get(reverse("accounts:reauthenticated-sso", args=[stash_id]))
        assert again["Location"] == reverse("accounts:reauthenticate", args=[stash_id])
    assert not Token.objects.filter(name="GitHub Actions").exists()


def test_a_password_person_is_not_offered_the_provider(client, sso_settings):
    person = factories.make_user("pw@example.test")
    factories.make_org("acme", owner="pw@example.test")
    client.force_login(person)
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=True):
        asked = client.post(reverse("tokens:ci-create", args=["acme"]), CI_FORM)
        assert "Confirm with" not in client.get(asked["Location"]).content.decode()
