"""A deployment token keeps deploying after the person behind it leaves the project, but it
stops creating and resetting tokens (docs/security.md, "Tokens of a person who leaves")."""

import pytest

from orgs import services
from orgs.audit import Actor
from orgs.models import Membership
from tests.api.world import build_world
from tokens.models import Token

API = "/api/v1"
WEB_DEPLOYMENT = {"project": "acme/web", "permissions": ["deployments:write", "tokens:write"]}


def call(client, token, method, path, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    if body is None:
        return getattr(client, method)(API + path, headers=headers)
    return getattr(client, method)(
        API + path, body, content_type="application/json", headers=headers
    )


def mint(client, token, name):
    return call(client, token, "post", "/tokens", {"name": name, **WEB_DEPLOYMENT})


def deploy(client, token):
    return call(client, token, "post", "/orgs/acme/projects/web/deployments", {"ref": "v1"})


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def owner(world):
    return Membership.objects.get(organization=world.acme, role="owner")


@pytest.fixture
def maintainer(world):
    return Membership.objects.get(organization=world.acme, user__email="maintainer@acme.test")


@pytest.fixture
def chain(client, world):
    """The maintainer's personal token mints a deployment token, which mints another."""
    first = mint(client, world.callers["pat_maintainer"], "first")
    assert first.status_code == 201, first.content
    second = mint(client, first.json()["token"], "second")
    assert second.status_code == 201, second.content
    return first.json(), second.json()


def refused(response):
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["error"] == "creator_lost_access"
    assert 'error="creator_lost_access"' in response["WWW-Authenticate"]
    return body["detail"]


def test_tokens_minted_by_tokens_record_their_maker_and_the_person_behind(world, chain):
    first, second = (Token.objects.get(pk=issued["id"]) for issued in chain)
    pat = Token.objects.get(kind=Token.Kind.PERSONAL, name="maintainer all")
    assert (first.created_by_token, first.created_by.email) == (pat, "maintainer@acme.test")
    assert (second.created_by_token, second.created_by.email) == (first, "maintainer@acme.test")


def test_after_the_maintainer_is_removed_the_chain_deploys_but_mints_nothing(
    client, world, owner, maintainer, chain
):
    first, second = chain
    services.project_update(project=world.web, name="Web", maintainers=[], actor=Actor())
    for issued in chain:
        assert deploy(client, issued["token"]).status_code == 201
    detail = refused(mint(client, first["token"], "third"))
    assert "still deploys" in detail and "maintainer@acme.test" not in detail
    refused(mint(client, second["token"], "third"))
    refused(call(client, first["token"], "post", f"/tokens/{second['id']}/reset"))
    assert not Token.objects.filter(name="third").exists()
    # Revoking stays possible: it only narrows what exists.
    assert call(client, first["token"], "delete", f"/tokens/{second['id']}").status_code == 204


def test_after_the_member_leaves_the_organization_the_chain_mints_nothing(
    client, world, owner, maintainer, chain
):
    services.membership_remove(membership=maintainer, by=owner, actor=Actor())
    refused(mint(client, chain[1]["token"], "third"))
    assert deploy(client, chain[1]["token"]).status_code == 201


def test_a_deactivated_creator_stops_the_chain_minting(client, world, maintainer, chain):
    maintainer.user.is_active = False
    maintainer.user.save()
    refused(mint(client, chain[0]["token"], "third"))


def test_while_the_creator_keeps_the_right_the_chain_mints(client, world, chain):
    assert mint(client, chain[1]["token"], "third").status_code == 201


def test_an_admins_token_follows_the_admins_role(client, world, owner):
    admin_made = mint(client, world.callers["pat_owner"], "admin made").json()["token"]
    second_owner = Membership.objects.get(user__email="member@acme.test")
    services.membership_change_role(membership=second_owner, role="owner", by=owner, actor=Actor())
    services.membership_change_role(membership=owner, role="member", by=second_owner, actor=Actor())
    refused(mint(client, admin_made, "later"))


def test_what_a_ci_token_minted_belongs_to_the_organization(client, world, owner):
    """No person is behind it: it keeps minting whoever leaves."""
    ci_made = mint(client, world.callers["ci_admin"], "ci made").json()
    assert Token.objects.get(pk=ci_made["id"]).created_by is None
    services.membership_change_role(
        membership=Membership.objects.get(user__email="member@acme.test"),
        role="owner",
        by=owner,
        actor=Actor(),
    )
    services.membership_remove(
        membership=owner, by=Membership.objects.get(user__email="member@acme.test"), actor=Actor()
    )
    assert mint(client, ci_made["token"], "later").status_code == 201
