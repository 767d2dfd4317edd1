"""The project's trusted-publishers page: who may see and change it, field errors, audit."""

import pytest

from orgs.models import AuditEvent, Membership
from tests.factories import make_org, make_project
from trust.models import TrustedPublisher

GITHUB = "https://token.actions.githubusercontent.com"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(db):
    org = make_org("acme", owner="owner@x.test", member="dev@x.test")
    web = make_project(org, "web")
    make_project(org, "api")
    make_org("other", owner="stranger@x.test")
    return {"org": org, "web": web}


def url(project="web", suffix=""):
    return f"/orgs/acme/projects/{project}/settings/trusted-publishers/{suffix}"


def login(client, email):
    client.force_login(Membership.objects.get(user__email=email).user)
    return client


def form(**changes):
    data = {
        "issuer": GITHUB,
        "audience": "https://tokens.example.test",
        "repository": "acme/web",
        "ref": "refs/heads/main",
        "project_path": "",
        "environment": "",
        "workflow_ref": "",
        "permissions": ["projects:read", "deployments:write"],
        "lifetime_minutes": "15",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("email", "status"),
    [("owner@x.test", 200), ("dev@x.test", 404), ("stranger@x.test", 404)],
)
def test_who_sees_the_page(client, world, email, status):
    assert login(client, email).get(url()).status_code == status


def test_a_maintainer_manages_their_project_only(client, world):
    world["web"].maintainers.add(Membership.objects.get(user__email="dev@x.test").user)
    login(client, "dev@x.test")
    assert client.get(url()).status_code == 200
    assert client.get(url("api")).status_code == 404
    assert client.post(url(suffix="new/"), form()).status_code == 302


def test_signed_out_is_sent_to_sign_in(client, world):
    assert client.get(url()).status_code == 302


def test_create_edit_delete_are_audited(client, world):
    login(client, "owner@x.test")
    response = client.post(url(suffix="new/"), form(), **HTMX)
    assert response.status_code == 200
    assert "trustedPublishersChanged" in response["HX-Trigger"]
    policy = TrustedPublisher.objects.get()
    assert policy.conditions == {"repository": "acme/web", "ref": "refs/heads/main"}
    assert policy.permissions == ["projects:read", "deployments:write"]
    assert policy.project == world["web"]

    client.post(
        url(suffix=f"{policy.pk}/edit/"), form(environment="production", lifetime_minutes="30")
    )
    policy.refresh_from_db()
    assert policy.conditions["environment"] == "production" and policy.lifetime_minutes == 30

    client.post(url(suffix=f"{policy.pk}/delete/"))
    assert not TrustedPublisher.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="publisher.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["publisher.create", "publisher.delete", "publisher.update"]
    update = AuditEvent.objects.get(action="publisher.update")
    assert update.data["lifetime_minutes"] == {"from": 15, "to": 30}
    assert update.project_id == world["web"].pk


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"permissions": ["deployments:write", "tokens:write"]}, "permissions", "tokens:write"),
        ({"permissions": ["audit:read"]}, "permissions", "audit:read"),
        ({"repository": ""}, "repository", "Give the repository"),
        ({"project_path": "acme/web"}, "project_path", "no project_path claim"),
        ({"lifetime_minutes": "61"}, "lifetime_minutes", "5 to 60 minutes"),
        ({"lifetime_minutes": "4"}, "lifetime_minutes", "5 to 60 minutes"),
        ({"issuer": "https://evil.example.test"}, "issuer", "valid choice"),
        ({"audience": ""}, "audience", "required"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(client, world, changes, field, message):
    login(client, "owner@x.test")
    response = client.post(url(suffix="new/"), form(**changes), **HTMX)
    assert response.status_code == 422
    assert message in response.context["form"].errors[field][0]
    assert not TrustedPublisher.objects.exists()


def test_another_projects_policy_is_404(client, world):
    login(client, "owner@x.test")
    client.post(url(suffix="new/"), form())
    policy = TrustedPublisher.objects.get()
    assert client.get(url("api", f"{policy.pk}/edit/")).status_code == 404
    assert client.post(url("api", f"{policy.pk}/delete/")).status_code == 404
    assert TrustedPublisher.objects.exists()


def test_the_deploy_auth_checklist_offers_trusted_publishing(client, world):
    login(client, "owner@x.test")
    page = client.get("/orgs/acme/settings/deploy-auth/").content.decode()
    assert "switch this project to trusted publishing" in page
    assert 'href="/docs/trusted-publishing/"' in page
    assert client.get("/docs/trusted-publishing/").status_code == 200


def test_the_deployment_tokens_page_links_here(client, world):
    login(client, "owner@x.test")
    page = client.get("/orgs/acme/projects/web/settings/deployment-tokens/").content.decode()
    assert f'href="{url()}"' in page


def test_the_admin_lists_policies_and_exchanges_read_only(client, world):
    from accounts.models import User

    client.force_login(User.objects.create_superuser("root@x.test", "pw"))
    assert client.get("/admin/trust/trustedpublisher/").status_code == 200
    assert client.get("/admin/trust/oidcexchange/").status_code == 200
    assert client.get("/admin/trust/trustedpublisher/add/").status_code == 403
