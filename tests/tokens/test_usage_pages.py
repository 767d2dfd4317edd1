"""A token's page (who uses it), Narrow permissions, and the idle flag in the tables."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgs.models import AuditEvent, Membership
from tests.factories import (
    make_ci_token,
    make_deployment_token,
    make_org,
    make_personal_token,
    make_project,
    make_user,
)
from tokens import permissions as perms
from tokens import usage
from tokens.models import Token
from tokens.services import NarrowingRefused, token_narrow

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def org(db):
    organization = make_org("acme", owner="owner@x.test", member="dev@x.test")
    make_project(organization, "web")
    return organization


@pytest.fixture
def owner(org):
    return Membership.objects.get(user__email="owner@x.test").user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def api(token: str, method: str, path: str, *, address="203.0.113.5", **extra):
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "curl/8.5.0"}
    return getattr(Client(), method)(
        path, headers=headers, REMOTE_ADDR=address, content_type="application/json", **extra
    )


def used_days_ago(token: str, days: int, path="/api/v1/orgs/acme/projects") -> None:
    with time_machine.travel(timezone.now() - timedelta(days=days), tick=False):
        assert api(token, "get", path).status_code == 200
    usage.flush()


class TestDetailPage:
    def test_a_ci_tokens_page_shows_addresses_routes_agents_and_permissions(
        self, owner_client, org, owner
    ):
        ci = make_ci_token(org, owner)
        api(ci.plaintext, "get", "/api/v1/orgs/acme/projects")
        api(ci.plaintext, "get", "/api/v1/orgs/acme/projects", address="198.51.100.7")
        api(
            ci.plaintext,
            "post",
            "/api/v1/orgs/acme/projects/web/deployments",
            data={"ref": "main"},
        )
        api(ci.plaintext, "get", "/api/v1/tokens")  # 403

        response = owner_client.get(reverse("tokens:ci-detail", args=["acme", ci.token.pk]))

        assert response.status_code == 200
        assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
        body = response.content.decode()
        assert "203.0.113.5" in body and "198.51.100.7" in body
        assert "/api/v1/orgs/{org}/projects/{project}/deployments" in body
        assert "/api/v1/orgs/{org}/projects</code>" in body
        assert "2 calls" in body and "1 call, 1 refused or failed" in body
        assert "curl" in body and "acme/web" in body
        assert "Refused (403)" in body  # tokens:read attempted
        assert 'class="bar bar-100"' in body and 'class="bar bar-50"' in body
        assert ci.plaintext not in body and ci.token.digest not in body

    def test_the_row_name_links_to_the_page_for_every_kind(self, owner_client, org, owner):
        ci = make_ci_token(org, owner)
        deployment = make_deployment_token(org.projects.get(), owner)
        personal = make_personal_token(owner)
        pages = [
            (
                reverse("tokens:ci", args=["acme"]),
                reverse("tokens:ci-detail", args=["acme", ci.token.pk]),
            ),
            (
                reverse("tokens:deployment", args=["acme", "web"]),
                reverse("tokens:deployment-detail", args=["acme", "web", deployment.token.pk]),
            ),
            (
                reverse("tokens:personal"),
                reverse("tokens:personal-detail", args=[personal.token.pk]),
            ),
        ]
        for table, detail in pages:
            assert f'href="{detail}"' in owner_client.get(table).content.decode()
            assert owner_client.get(detail).status_code == 200

    def test_other_peoples_tokens_answer_404(self, client, org, owner):
        ci = make_ci_token(org, owner)
        deployment = make_deployment_token(org.projects.get(), owner)
        personal = make_personal_token(owner)
        other_org_ci = make_ci_token(make_org("beta", owner="boss@beta.test"), owner)
        stranger = make_user("stranger@x.test")
        member = Membership.objects.get(user__email="dev@x.test").user
        for who, urls in [
            (
                stranger,
                [
                    reverse("tokens:personal-detail", args=[personal.token.pk]),
                    reverse("tokens:ci-detail", args=["acme", ci.token.pk]),
                ],
            ),
            (
                member,  # neither an admin nor a maintainer of web
                [
                    reverse("tokens:personal-detail", args=[personal.token.pk]),
                    reverse("tokens:ci-detail", args=["acme", ci.token.pk]),
                    reverse("tokens:ci-narrow", args=["acme", ci.token.pk]),
                    reverse("tokens:deployment-detail", args=["acme", "web", deployment.token.pk]),
                ],
            ),
            (owner, [reverse("tokens:ci-detail", args=["acme", other_org_ci.token.pk])]),
        ]:
            client.force_login(who)
            for url in urls:
                assert client.get(url).status_code == 404, (who, url)

    def test_idle_tokens_are_flagged_in_the_table(self, owner_client, org, owner):
        idle = make_ci_token(org, owner, name="idle")
        busy = make_ci_token(org, owner, name="busy")
        month_ago = timezone.now() - timedelta(days=31)
        Token.objects.filter(pk=idle.token.pk).update(last_used_at=month_ago)
        Token.objects.filter(pk=busy.token.pk).update(last_used_at=timezone.now())
        body = owner_client.get(reverse("tokens:ci", args=["acme"])).content.decode()
        idle_row = body.split(f'id="token-{idle.token.pk}"')[1].split("</tr>")[0]
        busy_row = body.split(f'id="token-{busy.token.pk}"')[1].split("</tr>")[0]
        assert "badge-idle" in idle_row and "badge-idle" not in busy_row


class TestNarrow:
    def test_it_takes_away_unused_permissions_keeping_the_secret(self, owner_client, org, owner):
        ci = make_ci_token(org, owner, role="read_only")
        digest = ci.token.digest
        used_days_ago(ci.plaintext, 8)
        url = reverse("tokens:ci-narrow", args=["acme", ci.token.pk])

        dialog = owner_client.get(url, **HTMX)
        assert dialog.status_code == 200
        assert "Narrow permissions" in dialog.content.decode()
        response = owner_client.post(url, {"permissions": ["projects:read"]}, **HTMX)

        assert response.status_code == 200
        assert "tokenNarrowed" in response["HX-Trigger"]
        token = Token.objects.get(pk=ci.token.pk)
        assert token.permissions == ["projects:read"]
        assert (token.digest, token.role) == (digest, "custom")
        event = AuditEvent.objects.get(action="token.narrow")
        assert event.actor_user == owner
        assert "audit:read" in event.data["removed"] and event.data["permissions"] == [
            "projects:read"
        ]
        # The secret still works for what it used; what was taken away answers 403.
        assert api(ci.plaintext, "get", "/api/v1/orgs/acme/projects").status_code == 200
        refused = api(ci.plaintext, "get", "/api/v1/orgs")
        assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"

    def test_it_works_without_javascript(self, owner_client, org, owner):
        personal = make_personal_token(owner, permissions={"projects:read", "tokens:write"})
        used_days_ago(personal.plaintext, 10)
        url = reverse("tokens:personal-narrow", args=[personal.token.pk])
        page = owner_client.get(url)
        assert page.status_code == 200 and 'id="confirm-narrow-dialog"' in page.content.decode()
        response = owner_client.post(url, {"permissions": ["projects:read"]})
        assert response.status_code == 302
        assert response["Location"] == reverse("tokens:personal-detail", args=[personal.token.pk])
        assert Token.objects.get(pk=personal.token.pk).permissions == ["projects:read"]

    def test_it_is_refused_while_usage_is_too_young(self, owner_client, org, owner):
        ci = make_ci_token(org, owner, role="read_only")
        used_days_ago(ci.plaintext, 6)
        url = reverse("tokens:ci-narrow", args=["acme", ci.token.pk])
        assert owner_client.get(url, **HTMX).status_code == 409
        response = owner_client.post(url, {"permissions": ["projects:read"]}, **HTMX)
        assert response.status_code == 409
        assert "less than 7 days" in response.content.decode()
        assert set(Token.objects.get(pk=ci.token.pk).permissions) == perms.ROLE_PRESETS["read_only"]
        assert not AuditEvent.objects.filter(action="token.narrow").exists()

    def test_a_never_used_token_cannot_be_narrowed(self, org, owner):
        ci = make_ci_token(org, owner, role="read_only")
        with pytest.raises(NarrowingRefused, match="less than 7 days"):
            token_narrow(
                token=ci.token, permissions=frozenset({"projects:read"}), actor=_actor(owner)
            )


def _actor(user):
    from orgs.audit import Actor

    return Actor(user=user)


class TestNarrowingNeverWidens:
    @pytest.fixture
    def ci(self, org, owner):
        issued = make_ci_token(org, owner, role="ci")  # projects:read, deployments:write
        used_days_ago(issued.plaintext, 9)  # projects:read used
        return issued.token

    @pytest.mark.parametrize(
        "asked",
        [
            {"projects:read", "audit:read"},
            {"projects:read", "projects:write"},
            {"projects:read", "deployments:write", "tokens:read"},
        ],
    )
    def test_a_permission_the_token_lacks_is_refused(self, ci, owner, asked):
        with pytest.raises(NarrowingRefused, match="never adds"):
            token_narrow(token=ci, permissions=frozenset(asked), actor=_actor(owner))
        assert sorted(Token.objects.get(pk=ci.pk).permissions) == [
            "deployments:write",
            "projects:read",
        ]

    def test_a_used_permission_cannot_go(self, ci, owner):
        with pytest.raises(NarrowingRefused, match="projects:read"):
            token_narrow(
                token=ci, permissions=frozenset({"deployments:write"}), actor=_actor(owner)
            )

    def test_the_same_set_or_nothing_is_refused(self, ci, owner):
        for asked in (frozenset(), frozenset({"projects:read", "deployments:write"})):
            with pytest.raises(NarrowingRefused):
                token_narrow(token=ci, permissions=asked, actor=_actor(owner))

    def test_write_down_to_read_is_a_narrowing(self, org, owner):
        issued = make_ci_token(org, owner, role="ci")
        used_days_ago(issued.plaintext, 9, path="/api/v1/orgs/acme/projects/web/deployments")
        # Only deployments:read was used, through deployments:write: the suggestion keeps the
        # write (never suggest removing what a seen call needed), a person may take read only.
        assert usage.usage_of(issued.token).suggestion == {"deployments:write"}
        narrowed = token_narrow(
            token=issued.token, permissions=frozenset({"deployments:read"}), actor=_actor(owner)
        )
        assert narrowed.permissions == ["deployments:read"]


@pytest.mark.parametrize(
    ("granted", "used", "expected"),
    [
        ({"projects:read", "deployments:write"}, {"deployments:write"}, {"deployments:write"}),
        ({"deployments:write"}, {"deployments:read"}, {"deployments:write"}),
        ({"tokens:read", "tokens:write"}, {"tokens:write"}, {"tokens:write"}),
        ({"tokens:read", "tokens:write"}, {"tokens:read"}, {"tokens:read", "tokens:write"}),
        ({"audit:read"}, set(), set()),
    ],
)
def test_the_suggestion_keeps_what_calls_needed(granted, used, expected):
    assert usage.narrowed(granted, used) == expected
    assert usage.narrowed(granted, used) <= granted
