import pytest
from django.urls import reverse

from orgs.models import Membership, Project
from tests.factories import make_deployment_token, make_org, make_project
from tokens.models import Token


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test")


@pytest.fixture
def owner_client(client, org):
    client.force_login(Membership.objects.get(user__email="owner@x.test").user)
    return client


def test_deleting_a_project_names_and_revokes_its_deployment_tokens(owner_client, org):
    web = make_project(org, "web")
    owner = Membership.objects.get(user__email="owner@x.test").user
    tokens = [make_deployment_token(web, owner, name=f"d{n}").token for n in range(2)]
    url = reverse("orgs:project-delete", args=["acme", "web"])
    confirm = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "2 active deployment tokens will be revoked." in confirm
    assert owner_client.post(url).status_code == 302
    assert not Project.objects.filter(slug="web").exists()
    assert Project.all_objects.get(pk=web.pk).deleted_at is not None
    assert all(Token.objects.get(pk=t.pk).revoked_at is not None for t in tokens)
    assert owner_client.get(reverse("tokens:deployment", args=["acme", "web"])).status_code == 404


def test_a_deleted_projects_slug_can_be_reused(owner_client, org):
    make_project(org, "web")
    owner_client.post(reverse("orgs:project-delete", args=["acme", "web"]))
    response = owner_client.post(
        reverse("orgs:project-create", args=["acme"]), {"name": "Web", "slug": "web"}
    )
    assert response.status_code == 302
    assert Project.objects.get(organization=org, slug="web").deleted_at is None


def test_a_duplicate_slug_gets_a_message(owner_client, org):
    make_project(org, "web")
    response = owner_client.post(
        reverse("orgs:project-create", args=["acme"]),
        {"name": "Web", "slug": "web"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "already exists" in response.content.decode()


def test_html_in_a_project_name_is_escaped(owner_client, org):
    owner_client.post(
        reverse("orgs:project-create", args=["acme"]), {"name": "<script>x</script>", "slug": ""}
    )
    body = owner_client.get(reverse("orgs:overview", args=["acme"])).content.decode()
    assert "<script>x</script>" not in body and "&lt;script&gt;x&lt;/script&gt;" in body


def test_maintainers_must_be_members(owner_client, org):
    from tests.factories import make_user

    web = make_project(org, "web")
    stranger = make_user("stranger@x.test")
    response = owner_client.post(
        reverse("orgs:project-edit", args=["acme", "web"]),
        {"name": "Web", "maintainers": [stranger.pk]},
    )
    assert response.status_code == 422
    assert not web.maintainers.exists()
