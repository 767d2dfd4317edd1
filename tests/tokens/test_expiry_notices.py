from datetime import timedelta

import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from orgs.audit import Actor
from orgs.models import Membership
from tests.factories import make_ci_token, make_org, make_personal_token
from tokens.services import token_reset


def run() -> None:
    call_command("notify_expiring_tokens", stdout=None)


def test_owners_get_one_notice_per_token_per_expiry(user):
    make_personal_token(user, name="soon", expires_in_days=30)
    make_personal_token(user, name="never")
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=20)):
        run()
        assert mail.outbox == []  # 10 days left: too early
    with time_machine.travel(start + timedelta(days=24)):
        run()
        run()  # the hourly cron again: nothing new
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == [user.email]
    assert "“soon”" in notice.subject
    assert "/settings/tokens/" in notice.body
    with time_machine.travel(start + timedelta(days=25)):
        run()
    assert len(mail.outbox) == 1


def test_ci_token_notices_go_to_owners_and_super_admins(db):
    org = make_org("acme", owner="owner@x.test", super_admin="admin@x.test", member="dev@x.test")
    owner = Membership.objects.get(user__email="owner@x.test").user
    make_ci_token(org, owner, expires_in_days=3)
    run()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@x.test", "owner@x.test"]


def test_a_reset_token_gets_a_notice_for_its_new_expiry(db):
    org = make_org("acme", owner="owner@x.test")
    owner = Membership.objects.get(organization=org).user
    issued = make_ci_token(org, owner, expires_in_days=3)
    run()
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        token_reset(token=issued.token, actor=Actor(user=owner))  # 3 more days from now
        run()
    assert len(mail.outbox) == 2


def test_revoked_and_expired_tokens_get_no_notice(user):
    from tokens.services import token_revoke

    revoked = make_personal_token(user, name="revoked", expires_in_days=2).token
    token_revoke(token=revoked, actor=Actor(user=user))
    make_personal_token(user, name="expired", expires_in_days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1, hours=1)):
        run()
    assert mail.outbox == []


def test_the_dashboard_warns_about_tokens_expiring_soon(signed_in, user):
    make_personal_token(user, name="soon", expires_in_days=3)
    make_personal_token(user, name="later", expires_in_days=90)
    body = signed_in.get(reverse("dashboard")).content.decode()
    assert 'id="expiring-soon"' in body
    assert "“soon”" in body and "“later”" not in body


def test_expired_tokens_show_as_expired_with_the_date(signed_in, user):
    make_personal_token(user, name="old", expires_in_days=1)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        signed_in.force_login(user)  # the first session has expired (SESSION_IDLE_MINUTES)
        body = signed_in.get(reverse("tokens:personal")).content.decode()
    assert "badge-expired" in body
    assert 'title="' in body.split("badge-expired")[0].rsplit("<tr", 1)[1]
