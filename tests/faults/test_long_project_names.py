"""A slug derived from a long name fits the column (50) and is unique in the organization,
on SQLite and PostgreSQL alike; the project's pages, deployment tokens and API reach it."""

from unittest import mock

import pytest
from django.urls import reverse

from lib.errors import RuleError
from orgs.audit import Actor
from orgs.models import Membership, Project
from orgs.services import project_create
from tests.factories import make_org, make_personal_token
from tokens import permissions as perms

LONG_NAME = "Payments " + "x" * 91  # 100 characters, the most the form takes


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test")


@pytest.fixture
def owner(org):
    return Membership.objects.get(user__email="owner@x.test").user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def _api_token(user) -> str:
    return make_personal_token(user, name="api", permissions=perms.PERMISSIONS).plaintext


def _create(owner_client, name, slug=""):
    return owner_client.post(
        reverse("orgs:project-create", args=["acme"]), {"name": name, "slug": slug}
    )


def test_a_long_name_gets_a_slug_within_the_column(owner_client, org):
    assert len(LONG_NAME) == 100
    assert _create(owner_client, LONG_NAME).status_code == 302
    project = Project.objects.get(organization=org)
    assert project.name == LONG_NAME
    assert len(project.slug) <= 50
    assert project.slug.startswith("payments-xxx")


def test_two_long_names_alike_get_different_slugs(owner_client, org):
    _create(owner_client, LONG_NAME)
    assert _create(owner_client, LONG_NAME[:-1] + "y").status_code == 302
    slugs = sorted(Project.objects.filter(organization=org).values_list("slug", flat=True))
    assert len(set(slugs)) == 2
    assert all(len(slug) <= 50 for slug in slugs)
    assert any(slug.endswith("-2") for slug in slugs)


def test_a_name_without_letters_asks_for_a_slug(owner_client, org):
    response = _create(owner_client, "!!!")
    assert response.status_code == 422
    assert not Project.objects.exists()


def test_the_service_refuses_what_the_columns_cannot_hold(org, owner):
    with pytest.raises(RuleError) as name_error:
        project_create(organization=org, name="n" * 101, slug="", actor=Actor(user=owner))
    assert name_error.value.field == "name"
    with pytest.raises(RuleError) as slug_error:
        project_create(organization=org, name="n", slug="s" * 51, actor=Actor(user=owner))
    assert slug_error.value.field == "slug"


def test_its_deployment_tokens_and_api_reach_it(owner_client, org, owner):
    _create(owner_client, LONG_NAME)
    slug = Project.objects.get(organization=org).slug
    generate = reverse("tokens:deployment-generate", args=["acme", slug])
    assert owner_client.post(generate).status_code == 200
    response = owner_client.get(
        f"/api/v1/orgs/acme/projects/{slug}/deployments",
        headers={"Authorization": f"Bearer {_api_token(owner)}"},
    )
    assert response.status_code == 200


def test_a_rule_error_when_generating_a_deployment_token_is_a_message(owner_client, org):
    _create(owner_client, "Web")
    generate = reverse("tokens:deployment-generate", args=["acme", "web"])
    refused = RuleError("This organization allows these tokens to live at most 1 days.")
    with mock.patch("tokens.org_views.token_issue", side_effect=refused):
        response = owner_client.post(generate, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "at most 1 days" in response.content.decode()
