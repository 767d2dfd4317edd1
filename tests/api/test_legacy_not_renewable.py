"""Legacy server tokens are listed and revoked, never given a new secret (docs/api.md,
docs/security.md): not through the API, not through any page."""

import pytest
from django.urls import reverse

from orgs.audit import Actor
from orgs.models import AuditEvent, Membership
from tests.api.world import build_world
from tokens.models import Token
from tokens.services import TokenNotRenewable, token_reset

API = "/api/v1"


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def legacy(world):
    return Token.objects.get(kind=Token.Kind.SERVER, name="target legacy")


@pytest.fixture
def owner(world):
    return Membership.objects.get(organization=world.acme, role="owner").user


def digest_of(token):
    return Token.objects.values_list("digest", flat=True).get(pk=token.pk)


def test_the_service_refuses_a_new_secret_for_a_legacy_token(world, legacy, owner):
    before = digest_of(legacy)
    with pytest.raises(TokenNotRenewable, match="can only be revoked"):
        token_reset(token=legacy, actor=Actor(user=owner))
    assert digest_of(legacy) == before
    assert not AuditEvent.objects.filter(action="token.reset").exists()


@pytest.mark.parametrize("caller", ["ci_admin", "pat_owner"])
def test_the_api_answers_409_with_its_own_error(client, world, legacy, caller):
    before = digest_of(legacy)
    response = client.post(
        f"{API}/tokens/{legacy.pk}/reset",
        headers={"Authorization": f"Bearer {world.callers[caller]}"},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "legacy_token_not_renewable"
    assert set(body) == {"error", "detail"} and "revoked" in body["detail"]
    assert digest_of(legacy) == before


def test_the_legacy_token_can_still_be_listed_and_revoked(client, world, legacy):
    headers = {"Authorization": f"Bearer {world.callers['ci_admin']}"}
    listed = client.get(f"{API}/tokens?type=server", headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [legacy.pk]
    assert client.delete(f"{API}/tokens/{legacy.pk}", headers=headers).status_code == 204
    assert Token.objects.get(pk=legacy.pk).is_revoked


def test_no_page_offers_to_reset_a_legacy_token(client, world, legacy, owner):
    client.force_login(owner)
    # The CI tokens page's reset only finds CI tokens.
    reset = reverse("tokens:ci-reset", args=["acme", legacy.pk])
    assert client.get(reset).status_code == 404
    assert client.post(reset).status_code == 404
    # The deploy-auth page lists it with Revoke only.
    page = client.get(reverse("tokens:deploy-auth", args=["acme"])).content.decode()
    assert legacy.name in page
    assert reverse("tokens:legacy-revoke", args=["acme", legacy.pk]) in page
    assert "Reset" not in page and "regenerate" not in page.lower()
