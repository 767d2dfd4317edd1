"""The deploy-auth page and its checklist, computed from live usage."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orgs.audit import Actor
from orgs.models import AuditEvent, Deployment, Membership, Organization
from tests.factories import (
    make_ci_token,
    make_org,
    make_personal_token,
    make_project,
    make_user,
)
from tokens.deploy_auth import (
    Reach,
    deploy_auth_status,
    legacy_usage,
    personal_deploy_reach,
    usages,
)
from tokens.models import Token
from tokens.services import token_issue, token_verify


def checklist(organization) -> list[bool]:
    return [done for _, done in deploy_auth_status(organization).checklist]


def legacy_token(organization, user, name="legacy"):
    return token_issue(
        kind="srv", organization=organization, user=user, name=name,
        permissions=frozenset({"projects:read", "deployments:write"}), actor=Actor(user=user),
    )  # fmt: skip


def deploy(project, token, ago=timedelta(0)):
    return Deployment.objects.create(
        project=project, ref="abc", created_at=timezone.now() - ago,
        token_id=token.pk, token_kind=token.kind, token_preview=token.preview,
    )  # fmt: skip


class TestChecklist:
    def test_the_seeded_demo_is_a_migration_in_progress(self, db):
        call_command("seed_demo", stdout=None)
        acme = Organization.objects.get(slug="acme")
        assert checklist(acme) == [True, True, False, False]
        server_usage = usages(legacy_usage(acme, Token.Kind.SERVER))
        assert [u.project for u in server_usage] == ["web", "api"]
        assert sum(u.deployments for u in server_usage) == 6
        personal = usages(legacy_usage(acme, Token.Kind.PERSONAL))
        assert [(u.token.user.email, u.deployments) for u in personal] == [("dev@acme.test", 2)]
        assert personal_deploy_reach(acme) == Reach(pipelines=1, tokens=1, people=1)

    def test_each_step_ticks_from_live_data(self, db):
        org = make_org("acme", owner="owner@x.test")
        owner = Membership.objects.get(organization=org).user
        web = make_project(org, "web")
        legacy = legacy_token(org, owner).token
        deploy(web, legacy, ago=timedelta(days=10))
        org.allow_personal_token_deploys = True
        org.save()
        assert checklist(org) == [False, False, True, False]
        ci = make_ci_token(org, owner).token
        assert checklist(org) == [True, False, True, False]
        deploy(web, ci)
        assert checklist(org) == [True, True, True, False]
        deploy(web, legacy, ago=timedelta(days=1))
        assert checklist(org) == [True, True, False, False]
        from tokens.services import token_revoke

        token_revoke(token=legacy, actor=Actor(user=owner))
        org.allow_personal_token_deploys = False
        org.save()
        assert checklist(org)[3] is True


class TestLegacyUse:
    def test_use_is_recorded_at_most_once_a_minute(self, db):
        org = make_org("acme", owner="owner@x.test")
        owner = Membership.objects.get(organization=org).user
        issued = legacy_token(org, owner)
        token_verify(issued.plaintext, ip="192.0.2.7")
        token_verify(issued.plaintext, ip="192.0.2.7")
        events = AuditEvent.objects.filter(action="legacy.use")
        assert events.count() == 1
        assert events.get().ip == "192.0.2.7" and events.get().organization == org


class TestPage:
    @pytest.fixture
    def owner_client(self, client, db):
        call_command("seed_demo", stdout=None)
        client.force_login(Membership.objects.get(user__email="owner@acme.test").user)
        return client

    def test_it_shows_usage_and_the_checklist(self, owner_client):
        body = owner_client.get(reverse("tokens:deploy-auth", args=["acme"])).content.decode()
        assert "Legacy deploy server" in body and "dev@acme.test" in body
        assert body.count('class="done"') == 2 and body.count('class="todo"') == 2

    def test_the_switch_turns_personal_token_deploys_off_and_on(self, owner_client, client):
        url = reverse("tokens:deploy-auth-policy", args=["acme"])
        owner_client.post(url, {"confirmed": "yes"})  # unchecked checkbox, confirmed: off
        acme = Organization.objects.get(slug="acme")
        assert acme.allow_personal_token_deploys is False
        event = AuditEvent.objects.get(action="org.deploy_policy")
        assert event.data == {"allow_personal_token_deploys": False}
        owner_client.post(url, {"allow_personal_token_deploys": "on"})
        acme.refresh_from_db()
        assert acme.allow_personal_token_deploys is True

    def test_turning_them_off_first_says_how_many_pipelines_break(self, owner_client):
        url = reverse("tokens:deploy-auth-policy", args=["acme"])
        asked = owner_client.post(url, {}, HTTP_HX_REQUEST="true")
        assert asked.status_code == 200
        # Shown in the dialog slot, and the switch behind it reloads with the saved setting.
        assert asked["HX-Retarget"] == "#dialog-slot" and asked["HX-Reswap"] == "innerHTML"
        assert "deployAuthChanged" in asked["HX-Trigger"]
        body = asked.content.decode()
        assert 'id="confirm-refuse-personal-dialog"' in body
        # The demo: dev@acme.test's "Laptop scripts" deployed web twice in the window.
        assert (
            "<strong>1 pipeline</strong> deployed with a personal token in the last 30 days" in body
        )
        assert "(1 token of 1 person)" in body
        assert 'name="confirmed" value="yes"' in body
        assert Organization.objects.get(slug="acme").allow_personal_token_deploys is True
        assert not AuditEvent.objects.filter(action="org.deploy_policy").exists()

    def test_with_no_personal_deploys_it_still_asks_and_says_none(self, owner_client):
        Deployment.objects.filter(token_kind=Token.Kind.PERSONAL).delete()
        url = reverse("tokens:deploy-auth-policy", args=["acme"])
        body = owner_client.post(url, {}).content.decode()
        assert "No pipeline deployed with a personal token in the last 30 days" in body
        assert Organization.objects.get(slug="acme").allow_personal_token_deploys is True

    def test_allowing_them_again_needs_no_confirmation(self, owner_client):
        Organization.objects.filter(slug="acme").update(allow_personal_token_deploys=False)
        url = reverse("tokens:deploy-auth-policy", args=["acme"])
        owner_client.post(url, {"allow_personal_token_deploys": "on"})
        assert Organization.objects.get(slug="acme").allow_personal_token_deploys is True

    def test_revoking_a_legacy_token(self, owner_client):
        legacy = Token.objects.get(kind="srv", name="Legacy deploy server")
        url = reverse("tokens:legacy-revoke", args=["acme", legacy.pk])
        assert "Revoke" in owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
        owner_client.post(url)
        legacy.refresh_from_db()
        assert legacy.revoked_at is not None

    def test_members_get_404(self, client, db):
        call_command("seed_demo", stdout=None)
        client.force_login(Membership.objects.get(user__email="dev@acme.test").user)
        assert client.get(reverse("tokens:deploy-auth", args=["acme"])).status_code == 404
        url = reverse("tokens:deploy-auth-policy", args=["acme"])
        assert client.post(url, {}).status_code == 404
        assert Organization.objects.get(slug="acme").allow_personal_token_deploys is True


def personal_token(user, name):
    return make_personal_token(user, name, permissions={"deployments:write"}).token


class TestManyPipelines:
    """An organization with hundreds of legacy pipelines: counted in SQL, shown a page at a
    time, each list paging on its own."""

    @pytest.fixture
    def org(self, db):
        org = make_org("acme", owner="owner@x.test")
        owner = Membership.objects.get(organization=org).user
        web, api = make_project(org, "web"), make_project(org, "api")
        users = [make_user(f"p{i}@x.test") for i in range(3)]
        # 60 personal tokens of 3 people, each deploying web (and every third also api).
        for i in range(60):
            token = personal_token(users[i % 3], f"laptop {i}")
            deploy(web, token, ago=timedelta(minutes=i))
            if i % 3 == 0:
                deploy(api, token, ago=timedelta(minutes=i, seconds=30))
        # Outside the window, and another organization's: neither counts.
        deploy(web, personal_token(users[0], "old"), ago=timedelta(days=31))
        other = make_project(make_org("other", owner="z@x.test"), "web")
        deploy(other, personal_token(users[0], "elsewhere"))
        legacy = legacy_token(org, owner, name="server")
        deploy(web, legacy.token)
        return org

    def test_the_reach_counts_pipelines_tokens_and_people(self, org):
        assert personal_deploy_reach(org) == Reach(pipelines=80, tokens=60, people=3)

    def test_usage_is_most_recent_first(self, org):
        rows = usages(legacy_usage(org, Token.Kind.PERSONAL))
        assert len(rows) == 80
        assert [u.token.name for u in rows[:3]] == ["laptop 0", "laptop 0", "laptop 1"]
        assert [u.project for u in rows[:2]] == ["web", "api"]

    def test_the_page_shows_one_page_of_each_list(self, org, client):
        client.force_login(Membership.objects.get(organization=org).user)
        url = reverse("tokens:deploy-auth", args=["acme"])
        body = client.get(url).content.decode()
        assert body.count('<td data-label="Owner">') == 50
        assert "Page 1 of 2 · 80 pipelines" in body
        assert "?personal_page=2" in body and "laptop 0 " in body and "laptop 49 " not in body
        second = client.get(url, {"personal_page": 2, "server_page": 1}).content.decode()
        assert second.count('<td data-label="Owner">') == 30
        assert "Page 2 of 2 · 80 pipelines" in second and "laptop 59 " in second
        # The other lists keep their own page, and reloading keeps the query.
        assert "server_page=1" in second and 'data-label="Tied to"' in second
        assert "?personal_page=2&amp;server_page=1" in second

    def test_queries_do_not_grow_with_the_pipelines(self, org, client):
        client.force_login(Membership.objects.get(organization=org).user)
        with CaptureQueriesContext(connection) as many:
            assert client.get(reverse("tokens:deploy-auth", args=["acme"])).status_code == 200
        # The same shape, one of each: a personal pipeline and a legacy server token's.
        small = make_org("small", owner="owner@x.test")
        web = make_project(small, "web")
        deploy(web, personal_token(make_user("one@x.test"), "one"))
        deploy(web, legacy_token(small, small.memberships.get().user).token)
        with CaptureQueriesContext(connection) as few:
            assert client.get(reverse("tokens:deploy-auth", args=["small"])).status_code == 200
        assert len(many) == len(few)

    def test_a_page_number_out_of_range_shows_the_last_page(self, org, client):
        client.force_login(Membership.objects.get(organization=org).user)
        url = reverse("tokens:deploy-auth", args=["acme"])
        for junk in ("99", "-1", "x", "２"):
            body = client.get(url, {"personal_page": junk}).content.decode()
            assert "Page" in body and "pipelines" in body
