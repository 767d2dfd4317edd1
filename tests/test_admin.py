"""The admin lists tokens and audit events but never shows a digest and cannot edit the
audit log or create tokens."""

import pytest
from django.urls import reverse

from accounts.models import User
from orgs import invitations
from orgs.audit import Actor
from orgs.models import AuditEvent, Invitation, Membership
from tests.factories import make_org, make_personal_token
from tokens.models import Token


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root@x.test", "pw"))
    return client


def test_the_token_list_and_page_never_show_the_digest(admin_client, user):
    issued = make_personal_token(user)
    listing = admin_client.get(reverse("admin:tokens_token_changelist")).content.decode()
    page = admin_client.get(reverse("admin:tokens_token_change", args=[issued.token.pk]))
    for body in (listing, page.content.decode()):
        assert issued.token.digest not in body
        assert issued.plaintext not in body
    assert issued.token.preview in listing


def test_tokens_cannot_be_added_or_edited_in_the_admin(admin_client, user):
    issued = make_personal_token(user)
    assert admin_client.get(reverse("admin:tokens_token_add")).status_code == 403
    url = reverse("admin:tokens_token_change", args=[issued.token.pk])
    admin_client.post(url, {"name": "renamed"})
    assert Token.objects.get(pk=issued.token.pk).name == issued.token.name


def test_the_revoke_action_goes_through_the_service(admin_client, user):
    issued = make_personal_token(user)
    admin_client.post(
        reverse("admin:tokens_token_changelist"),
        {"action": "revoke", "_selected_action": [issued.token.pk]},
    )
    assert Token.objects.get(pk=issued.token.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoke", actor_label="root@x.test").exists()


def test_audit_events_are_read_only_in_the_admin(admin_client, user):
    make_personal_token(user)
    event = AuditEvent.objects.get()
    assert admin_client.get(reverse("admin:orgs_auditevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:orgs_auditevent_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:orgs_auditevent_delete", args=[event.pk])).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_invitations_are_listed_without_their_digest_and_cannot_be_edited(admin_client):
    organization = make_org("acme", owner="owner@x.test")
    owner = Membership.objects.get(user__email="owner@x.test")
    sent = invitations.invitation_create(
        organization=organization, email="new@x.test", role="member", by=owner, actor=Actor()
    )
    listing = admin_client.get(reverse("admin:orgs_invitation_changelist")).content.decode()
    page = admin_client.get(reverse("admin:orgs_invitation_change", args=[sent.invitation.pk]))
    assert "new@x.test" in listing
    for body in (listing, page.content.decode()):
        assert sent.invitation.digest not in body and sent.secret not in body
    assert admin_client.get(reverse("admin:orgs_invitation_add")).status_code == 403
    assert Invitation.objects.get().is_open
