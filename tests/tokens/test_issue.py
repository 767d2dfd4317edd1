from datetime import timedelta

import pytest
from django.utils import timezone

from lib.errors import RuleError
from orgs.models import AuditEvent
from tests.factories import make_personal_token
from tokens import format as token_format
from tokens.models import Token
from tokens.services import TokenConfigurationError, token_verify


def test_it_stores_only_the_digest_and_a_preview(user):
    issued = make_personal_token(user)
    token = Token.objects.get(pk=issued.token.pk)
    assert token.digest == token_format.digest(
        issued.plaintext, "test-salt-0123456789-abcdefghijklmnopqrstuvwxyz"
    )
    assert token.digest != issued.plaintext
    assert token.preview == token_format.preview(issued.plaintext)
    assert issued.plaintext not in repr(issued)


def test_it_records_one_audit_event_without_the_plaintext(user):
    issued = make_personal_token(user, name="ci box")
    events = list(AuditEvent.objects.all())
    assert [e.action for e in events] == ["token.create"]
    assert events[0].actor_user == user
    assert (events[0].target_type, events[0].target_id) == ("token", issued.token.pk)
    assert issued.plaintext not in str(events[0].__dict__)


def test_expiry_is_counted_in_days(user):
    issued = make_personal_token(user, expires_in_days=30)
    delta = issued.token.expires_at - timezone.now()
    assert timedelta(days=29, hours=23) < delta <= timedelta(days=30)


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_expiry_out_of_range_is_refused(user, days):
    with pytest.raises(RuleError) as caught:
        make_personal_token(user, expires_in_days=days)
    assert caught.value.field == "expires_in_days"
    assert not Token.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_names_are_refused(user, name):
    with pytest.raises(RuleError) as caught:
        make_personal_token(user, name=name)
    assert caught.value.field == "name"


def test_whitespace_in_names_is_collapsed_and_unicode_kept(user):
    issued = make_personal_token(user, name="  déploiement   🚀  nuit ")
    assert issued.token.name == "déploiement 🚀 nuit"


def test_a_second_live_token_with_the_same_name_is_refused_whatever_the_case(user):
    make_personal_token(user, name="Laptop")
    with pytest.raises(RuleError) as caught:
        make_personal_token(user, name="laptop")
    assert "already exists" in caught.value.message
    assert Token.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_the_name_is_free_again_after_revoking(user):
    from orgs.audit import Actor
    from tokens.services import token_revoke

    first = make_personal_token(user, name="laptop")
    token_revoke(token=first.token, actor=Actor(user=user))
    assert make_personal_token(user, name="laptop").token.pk != first.token.pk


def test_other_users_may_reuse_a_name(user, other_user):
    make_personal_token(user, name="laptop")
    make_personal_token(other_user, name="laptop")
    assert Token.objects.count() == 2


def test_without_a_salt_nothing_is_written(user, settings):
    settings.TOKEN_HASH_SALT = ""
    with pytest.raises(TokenConfigurationError) as caught:
        make_personal_token(user)
    assert "TOKEN_HASH_SALT" in str(caught.value)
    assert not Token.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_issued_token_verifies(user):
    issued = make_personal_token(user)
    assert token_verify(issued.plaintext).pk == issued.token.pk


def test_the_check_constraint_refuses_a_personal_token_without_a_user(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Token.objects.create(kind="pat", name="x", digest="d" * 64, preview="p")
