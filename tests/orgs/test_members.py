import pytest
from django.urls import reverse

from lib.errors import RuleError
from orgs import services
from orgs.audit import Actor
from orgs.models import AuditEvent, Membership
from tests.factories import make_ci_token, make_org, make_project, make_user
from tokens.services import token_verify


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test", super_admin="admin@x.test", member="dev@x.test")


def membership(email):
    return Membership.objects.select_related("user", "organization").get(user__email=email)


class TestLastOwner:
    def test_the_last_owner_cannot_be_demoted(self, org):
        owner = membership("owner@x.test")
        with pytest.raises(RuleError, match="at least one owner"):
            services.membership_change_role(
                membership=owner, role="member", by=owner, actor=Actor()
            )
        assert membership("owner@x.test").role == "owner"

    def test_the_last_owner_cannot_be_removed(self, org):
        owner = membership("owner@x.test")
        with pytest.raises(RuleError):
            services.membership_remove(membership=owner, by=owner, actor=Actor())
        assert Membership.objects.filter(pk=owner.pk).exists()

    def test_with_a_second_owner_one_may_step_down(self, org):
        owner = membership("owner@x.test")
        services.membership_change_role(
            membership=membership("dev@x.test"), role="owner", by=owner, actor=Actor()
        )
        services.membership_change_role(membership=owner, role="member", by=owner, actor=Actor())
        assert membership("owner@x.test").role == "member"

    def test_the_page_shows_why_and_changes_nothing(self, client, org):
        owner = membership("owner@x.test")
        client.force_login(owner.user)
        url = reverse("orgs:member-role", args=["acme", owner.pk])
        response = client.post(url, {"role": "member"}, follow=True)
        assert "needs at least one owner" in response.content.decode()
        htmx = client.post(url, {"role": "member"}, HTTP_HX_REQUEST="true")
        assert htmx.status_code == 409
        assert membership("owner@x.test").role == "owner"


class TestAddMember:
    def test_an_unknown_email_gets_a_message_next_to_the_field(self, client, org):
        client.force_login(membership("admin@x.test").user)
        response = client.post(
            reverse("orgs:member-add", args=["acme"]),
            {"email": "ghost@x.test", "role": "member"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 422
        assert "No Tokendesk account uses that e-mail" in response.content.decode()

    def test_adding_twice_is_refused(self, client, org):
        make_user("new@x.test")
        client.force_login(membership("owner@x.test").user)
        url = reverse("orgs:member-add", args=["acme"])
        assert client.post(url, {"email": "NEW@x.test", "role": "member"}).status_code == 302
        again = client.post(url, {"email": "new@x.test", "role": "member"})
        assert again.status_code == 422 and "already a member" in again.content.decode()
        assert Membership.objects.filter(user__email="new@x.test").count() == 1

    def test_each_change_is_audited_once(self, client, org):
        make_user("new@x.test")
        client.force_login(membership("owner@x.test").user)
        client.post(
            reverse("orgs:member-add", args=["acme"]), {"email": "new@x.test", "role": "member"}
        )
        new = membership("new@x.test")
        client.post(reverse("orgs:member-role", args=["acme", new.pk]), {"role": "super_admin"})
        client.post(reverse("orgs:member-remove", args=["acme", new.pk]))
        actions = list(
            AuditEvent.objects.filter(organization=org, action__startswith="member.")
            .order_by("id")
            .values_list("action", "actor_label")
        )
        assert actions == [
            ("member.add", "owner@x.test"),
            ("member.role_change", "owner@x.test"),
            ("member.remove", "owner@x.test"),
        ]


def test_a_ci_token_outlives_its_creators_membership(org):
    admin = membership("admin@x.test")
    issued = make_ci_token(org, admin.user)
    services.membership_remove(membership=admin, by=membership("owner@x.test"), actor=Actor())
    assert token_verify(issued.plaintext).organization == org


def test_removing_a_member_drops_them_from_maintainers(org):
    web = make_project(org, "web")
    dev = membership("dev@x.test")
    web.maintainers.add(dev.user)
    services.membership_remove(membership=dev, by=membership("owner@x.test"), actor=Actor())
    assert not web.maintainers.exists()
