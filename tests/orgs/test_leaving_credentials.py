"""Removing a member, or a maintainer from a project: the deployment tokens they created
keep working (they belong to the project), the confirmation lists them, and the remover may
revoke them too, in the same transaction (docs/security.md)."""

import pytest
from django.urls import reverse

from lib.errors import RuleError
from orgs import services
from orgs.audit import Actor
from orgs.models import AuditEvent, Membership
from tests.factories import make_ci_token, make_deployment_token, make_org, make_project
from tokens.models import Token
from tokens.services import token_verify

DEV = "dev@x.test"


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test", member=DEV)


@pytest.fixture
def owner(org):
    return Membership.objects.select_related("user", "organization").get(user__email="owner@x.test")


@pytest.fixture
def dev(org):
    return Membership.objects.select_related("user", "organization").get(user__email=DEV)


@pytest.fixture
def projects(org, dev):
    web, api = make_project(org, "web"), make_project(org, "api")
    web.maintainers.add(dev.user)
    api.maintainers.add(dev.user)
    return web, api


@pytest.fixture
def devs_tokens(projects, dev):
    web, api = projects
    return [
        make_deployment_token(web, dev.user, name="web one"),
        make_deployment_token(web, dev.user, name="web two"),
        make_deployment_token(api, dev.user, name="api one"),
    ]


@pytest.fixture
def others(org, projects, owner, dev):
    """Tokens removing dev must never touch: the owner's, dev's CI token, another org's."""
    elsewhere = make_org("beta", member=DEV)
    return [
        make_deployment_token(projects[0], owner.user, name="owner's web"),
        make_ci_token(org, dev.user, name="dev's ci"),
        make_deployment_token(make_project(elsewhere, "site"), dev.user, name="beta site"),
    ]


def live(issued):
    return Token.objects.get(pk=issued.token.pk).is_active


class TestRemovingAMember:
    def test_by_default_their_deployment_tokens_keep_working(self, owner, dev, devs_tokens):
        services.membership_remove(membership=dev, by=owner, actor=Actor(user=owner.user))
        for issued in devs_tokens:
            assert token_verify(issued.plaintext).pk == issued.token.pk
        event = AuditEvent.objects.get(action="member.remove")
        assert "tokens_revoked" not in event.data

    def test_asked_to_it_revokes_them_in_the_removal(self, owner, dev, devs_tokens, others):
        services.membership_remove(
            membership=dev, by=owner, actor=Actor(user=owner.user), revoke_credentials=True
        )
        assert not any(live(issued) for issued in devs_tokens)
        assert all(live(issued) for issued in others)
        revokes = AuditEvent.objects.filter(action="token.revoke")
        assert sorted(revokes.values_list("target_id", flat=True)) == sorted(
            issued.token.pk for issued in devs_tokens
        )
        assert {event.data["reason"] for event in revokes} == {"creator left acme"}
        assert AuditEvent.objects.get(action="member.remove").data["tokens_revoked"] == 3

    def test_a_refused_removal_revokes_nothing(self, org, owner, devs_tokens):
        web = devs_tokens[0].token.project
        owners_token = make_deployment_token(web, owner.user, name="owner's")
        with pytest.raises(RuleError):
            services.membership_remove(
                membership=owner, by=owner, actor=Actor(), revoke_credentials=True
            )
        assert live(owners_token)
        assert not AuditEvent.objects.filter(action__in=["token.revoke", "member.remove"])


class TestRemovingAMaintainer:
    def test_by_default_their_tokens_of_the_project_keep_working(self, projects, devs_tokens):
        web, _ = projects
        services.project_update(project=web, name="Web", maintainers=[], actor=Actor())
        assert all(live(issued) for issued in devs_tokens)

    def test_asked_to_it_revokes_their_tokens_of_that_project_only(
        self, projects, devs_tokens, others
    ):
        web, _ = projects
        services.project_update(
            project=web, name="Web", maintainers=[], actor=Actor(), revoke_credentials=True
        )
        assert [live(issued) for issued in devs_tokens] == [False, False, True]
        assert all(live(issued) for issued in others)
        event = AuditEvent.objects.filter(action="project.update").latest("id")
        assert event.data["tokens_revoked"] == 2
        revokes = AuditEvent.objects.filter(action="token.revoke")
        assert {event.data["reason"] for event in revokes} == {
            "creator no longer maintains acme/web"
        }

    def test_keeping_a_maintainer_revokes_nothing(self, projects, dev, devs_tokens):
        web, _ = projects
        services.project_update(
            project=web, name="Web", maintainers=[dev.user], actor=Actor(), revoke_credentials=True
        )
        assert all(live(issued) for issued in devs_tokens)


class TestTheMemberRemovalDialog:
    def test_it_lists_the_tokens_that_keep_working(self, client, owner, dev, devs_tokens):
        client.force_login(owner.user)
        url = reverse("orgs:member-remove", args=["acme", dev.pk])
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            page = client.get(url, **headers).content.decode()
            assert f"3 deployment tokens created by {DEV} keep working; revoke them too?" in page
            for issued in devs_tokens:
                assert issued.token.name in page and issued.token.preview in page
            assert 'name="revoke_credentials"' in page and "Also revoke these 3 tokens" in page
            assert "checked" not in page.split('name="revoke_credentials"')[1].split(">")[0]

    def test_without_tokens_there_is_no_choice(self, client, owner, dev, projects):
        client.force_login(owner.user)
        page = client.get(reverse("orgs:member-remove", args=["acme", dev.pk])).content.decode()
        assert "revoke_credentials" not in page

    @pytest.mark.parametrize("htmx", [False, True])
    def test_ticking_the_box_revokes_them(self, client, owner, dev, devs_tokens, htmx):
        client.force_login(owner.user)
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = client.post(
            reverse("orgs:member-remove", args=["acme", dev.pk]),
            {"revoke_credentials": "on"},
            **headers,
        )
        assert response.status_code == (200 if htmx else 302)
        assert not Membership.objects.filter(pk=dev.pk).exists()
        assert not any(live(issued) for issued in devs_tokens)
        log = client.get(reverse("orgs:audit", args=["acme"])).content.decode()
        assert "(and 3 deployment tokens they created revoked)" in log

    def test_leaving_it_unticked_keeps_them(self, client, owner, dev, devs_tokens):
        client.force_login(owner.user)
        client.post(reverse("orgs:member-remove", args=["acme", dev.pk]))
        assert not Membership.objects.filter(pk=dev.pk).exists()
        assert all(live(issued) for issued in devs_tokens)


class TestTheMaintainerRemovalConfirmation:
    def edit(self, client, project, **extra):
        return client.post(
            reverse("orgs:project-edit", args=["acme", project.slug]),
            {"name": "Web", "maintainers": [], **extra},
        )

    def test_removing_a_maintainer_with_tokens_asks_first(
        self, client, owner, projects, devs_tokens
    ):
        web, _ = projects
        client.force_login(owner.user)
        response = self.edit(client, web)
        page = response.content.decode()
        assert response.status_code == 200
        assert f"Remove {DEV} from the maintainers of Web?" in page
        assert f"2 deployment tokens created by {DEV} keep working; revoke them too?" in page
        assert "api one" not in page
        assert 'name="confirmed" value="on"' in page
        assert web.maintainers.exists()  # nothing saved yet

    def test_confirming_keeps_the_tokens(self, client, owner, projects, devs_tokens):
        web, _ = projects
        client.force_login(owner.user)
        assert self.edit(client, web, confirmed="on").status_code == 302
        assert not web.maintainers.exists()
        assert all(live(issued) for issued in devs_tokens)

    def test_confirming_with_the_box_ticked_revokes_them(
        self, client, owner, projects, devs_tokens
    ):
        web, _ = projects
        client.force_login(owner.user)
        self.edit(client, web, confirmed="on", revoke_credentials="on")
        assert not web.maintainers.exists()
        assert [live(issued) for issued in devs_tokens] == [False, False, True]

    def test_a_maintainer_without_tokens_is_removed_at_once(self, client, owner, projects):
        web, _ = projects
        client.force_login(owner.user)
        assert self.edit(client, web).status_code == 302
        assert not web.maintainers.exists()
