"""Inviting people by e-mail: sending, the pending list, resend and revoke (issue 11 §2)."""

import hashlib
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import tasks
from lib.errors import RuleError
from orgs import invitations
from orgs.audit import Actor
from orgs.models import AuditEvent, Invitation, Membership
from tests.factories import make_org, make_project

LINK_RE = re.compile(r"http://\S+/invitations/([A-Za-z0-9_-]{43})/")


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test", super_admin="admin@x.test", member="dev@x.test")


def membership(email, slug="acme"):
    return Membership.objects.select_related("user", "organization").get(
        user__email=email, organization__slug=slug
    )


def invite(email="new@x.test", role="member", by="owner@x.test", **extra):
    by_membership = membership(by)
    return invitations.invitation_create(
        organization=by_membership.organization,
        email=email,
        role=role,
        by=by_membership,
        actor=Actor(user=by_membership.user),
        **extra,
    )


def link_secret(message) -> str:
    return LINK_RE.search(message.body)[1]


class TestInviting:
    def test_the_secret_is_stored_only_as_its_digest(self, org, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            sent = invite()
        stored = Invitation.objects.values().get(pk=sent.invitation.pk)
        assert stored["digest"] == hashlib.sha256(sent.secret.encode()).hexdigest()
        assert not any(sent.secret in str(value) for value in stored.values())
        assert sent.secret not in str(AuditEvent.objects.values().first())
        assert len(sent.secret) == 43

    def test_the_invitee_gets_a_single_link_by_mail_after_commit(
        self, org, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            sent = invite("New@X.test ", role="super_admin")
        assert mail.outbox == []  # nothing leaves before the transaction commits
        for callback in callbacks:
            callback()
        (message,) = mail.outbox
        assert message.to == ["new@x.test"]
        assert "Acme" in message.subject
        assert "owner@x.test invited you" in message.body and "super admin" in message.body
        assert link_secret(message) == sent.secret
        assert sent.invitation.email == "new@x.test"
        lifetime = sent.invitation.expires_at - sent.invitation.created_at
        assert lifetime == invitations.LIFETIME

    def test_it_is_audited(self, org):
        sent = invite(projects=[make_project(org, "web")])
        event = AuditEvent.objects.get(action="invitation.create")
        assert event.organization == org and event.actor_label == "owner@x.test"
        assert event.target_id == sent.invitation.pk
        assert event.data == {"email": "new@x.test", "role": "member", "projects": ["web"]}

    def test_an_existing_member_is_refused_next_to_the_email(self, org):
        with pytest.raises(RuleError, match="already a member") as error:
            invite("DEV@x.test")
        assert error.value.field == "email"
        assert not Invitation.objects.exists()

    def test_a_second_pending_invitation_for_the_same_address_is_refused(self, org):
        invite()
        with pytest.raises(RuleError, match="already invited") as error:
            invite("new@x.test", role="super_admin")
        assert error.value.field == "email"
        assert Invitation.objects.count() == 1

    def test_an_expired_invitation_is_replaced_by_a_new_one(self, org):
        old = invite().invitation
        Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now())
        new = invite().invitation
        old.refresh_from_db()
        assert old.revoked_at is not None and old.replaced_by == new
        assert list(Invitation.objects.open()) == [new]

    def test_the_same_address_may_be_invited_by_two_organizations(self, org):
        make_org("other", owner="owner@x.test")
        invite()
        other = membership("owner@x.test", "other")
        invitations.invitation_create(
            organization=other.organization,
            email="new@x.test",
            role="member",
            by=other,
            actor=Actor(),
        )
        assert Invitation.objects.open().count() == 2

    def test_super_admins_cannot_invite_owners(self, org):
        with pytest.raises(PermissionDenied):
            invite(role="owner", by="admin@x.test")
        invite(role="super_admin", by="admin@x.test")

    def test_members_cannot_invite(self, org):
        with pytest.raises(PermissionDenied):
            invite(by="dev@x.test")

    def test_maintainerships_are_for_members_only(self, org):
        web = make_project(org, "web")
        with pytest.raises(RuleError, match="only for members") as error:
            invite(role="super_admin", projects=[web])
        assert error.value.field == "projects"

    def test_another_organizations_project_is_refused(self, org):
        elsewhere = make_project(make_org("other"), "secret")
        with pytest.raises(RuleError, match="this organization"):
            invite(projects=[elsewhere])


class TestResendAndRevoke:
    def test_resend_mails_a_new_link_and_the_old_one_stops_working(
        self, org, client, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = invite(projects=[make_project(org, "web")])
            second = invitations.invitation_resend(
                invitation=first.invitation, by=membership("owner@x.test"), actor=Actor()
            )
        assert [link_secret(message) for message in mail.outbox] == [first.secret, second.secret]
        assert second.secret != first.secret
        assert [p.slug for p in second.invitation.projects.all()] == ["web"]
        old = client.get(invitations.accept_path(first.secret))
        assert old.status_code == 410 and "was replaced" in old.content.decode()
        assert client.get(invitations.accept_path(second.secret)).status_code == 200
        assert AuditEvent.objects.filter(action="invitation.resend").count() == 1

    def test_revoke_ends_the_link_and_is_audited(self, org, client):
        sent = invite()
        invitations.invitation_revoke(
            invitation=sent.invitation, by=membership("admin@x.test"), actor=Actor()
        )
        response = client.get(invitations.accept_path(sent.secret))
        assert response.status_code == 410 and "was revoked" in response.content.decode()
        event = AuditEvent.objects.get(action="invitation.revoke")
        assert event.data == {"email": "new@x.test", "role": "member"}
        assert not Invitation.objects.open().exists()

    def test_super_admins_cannot_revoke_an_invitation_to_become_owner(self, org):
        sent = invite(role="owner")
        with pytest.raises(PermissionDenied):
            invitations.invitation_revoke(
                invitation=sent.invitation, by=membership("admin@x.test"), actor=Actor()
            )

    def test_an_accepted_invitation_cannot_be_revoked(self, org):
        sent = invite()
        invitations.invitation_accept(
            secret=sent.secret, user=None, password="a long passphrase 42", actor=Actor()
        )
        with pytest.raises(RuleError, match="already accepted"):
            invitations.invitation_revoke(
                invitation=sent.invitation, by=membership("owner@x.test"), actor=Actor()
            )


class TestMembersPage:
    def test_admins_see_pending_invitations(self, org, client):
        invite("pending@x.test", projects=[make_project(org, "web")])
        client.force_login(membership("admin@x.test").user)
        page = client.get(reverse("orgs:members", args=["acme"])).content.decode()
        assert "Pending invitations" in page
        assert "pending@x.test" in page and "maintainer of web" in page
        assert "owner@x.test" in page  # invited by

    def test_members_do_not(self, org, client):
        invite("pending@x.test")
        client.force_login(membership("dev@x.test").user)
        page = client.get(reverse("orgs:members", args=["acme"])).content.decode()
        assert "pending@x.test" not in page and "Pending invitations" not in page
        url = reverse("orgs:member-invite", args=["acme"])
        assert client.post(url, {"email": "x@x.test", "role": "member"}).status_code == 403

    def test_the_list_costs_the_same_queries_for_one_or_many(
        self, org, client, django_assert_max_num_queries
    ):
        web = make_project(org, "web")
        client.force_login(membership("owner@x.test").user)
        url = reverse("orgs:members", args=["acme"])
        invite("a@x.test", projects=[web])
        with CaptureQueriesContext(connection) as one:
            client.get(url)
        for n in range(6):
            invite(f"more{n}@x.test", projects=[web])
        with django_assert_max_num_queries(len(one.captured_queries)):
            client.get(url)

    def test_inviting_through_the_form(self, org, client, django_capture_on_commit_callbacks):
        web = make_project(org, "web")
        client.force_login(membership("owner@x.test").user)
        url = reverse("orgs:member-invite", args=["acme"])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url, {"email": "new@x.test", "role": "member", "projects": [web.pk]}
            )
        assert response.status_code == 302
        assert mail.outbox[0].to == ["new@x.test"]
        assert list(Invitation.objects.get().projects.all()) == [web]

    def test_form_errors_stay_in_the_dialog(self, org, client):
        client.force_login(membership("owner@x.test").user)
        url = reverse("orgs:member-invite", args=["acme"])
        member = client.post(url, {"email": "dev@x.test", "role": "member"}, HTTP_HX_REQUEST="1")
        assert member.status_code == 422
        assert "dev@x.test is already a member." in member.content.decode()
        invite("new@x.test")
        twice = client.post(url, {"email": "new@x.test", "role": "member"}, HTTP_HX_REQUEST="1")
        assert twice.status_code == 422 and "already invited" in twice.content.decode()
        bad = client.post(url, {"email": "not an address", "role": "member"}, HTTP_HX_REQUEST="1")
        assert bad.status_code == 422 and "valid email" in bad.content.decode()

    def test_adding_an_unknown_address_offers_an_invitation(self, org, client):
        client.force_login(membership("owner@x.test").user)
        response = client.post(
            reverse("orgs:member-add", args=["acme"]),
            {"email": "ghost@x.test", "role": "member"},
            HTTP_HX_REQUEST="true",
        )
        page = response.content.decode()
        assert response.status_code == 422
        assert "No Tokendesk account uses that e-mail yet. Send them an invitation" in page
        assert "Invite by e-mail" in page and "Send invitation" in page
        assert 'value="ghost@x.test"' in page
        assert f'action="{reverse("orgs:member-invite", args=["acme"])}"' in page

    def test_another_organizations_invitation_ids_are_404(self, org, client):
        sent = invite()
        make_org("other", owner="stranger@x.test")
        client.force_login(membership("stranger@x.test", "other").user)
        for name in ("invitation-resend", "invitation-revoke"):
            for slug in ("other", "acme"):
                url = reverse(f"orgs:{name}", args=[slug, sent.invitation.pk])
                assert client.post(url).status_code == 404
        assert Invitation.objects.get().is_open

    def test_revoke_asks_first_then_revokes(self, org, client):
        sent = invite()
        client.force_login(membership("owner@x.test").user)
        url = reverse("orgs:invitation-revoke", args=["acme", sent.invitation.pk])
        dialog = client.get(url, HTTP_HX_REQUEST="true")
        assert "Revoke invitation" in dialog.content.decode()
        assert Invitation.objects.get().is_open
        assert client.post(url).status_code == 302
        assert not Invitation.objects.get().is_open


def test_a_refusing_mail_server_leaves_the_invitation_pending(
    org, client, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no SMTP here")

    monkeypatch.setattr(tasks, "send_mail", refuse)
    client.force_login(membership("owner@x.test").user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("orgs:member-invite", args=["acme"]), {"email": "new@x.test", "role": "member"}
        )
    assert response.status_code == 302
    assert Invitation.objects.open().get().email == "new@x.test"
    assert "no SMTP here" in caplog.text
