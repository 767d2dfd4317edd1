import threading

import pytest
from django.db import close_old_connections, connection

from orgs.audit import Actor
from orgs.models import AuditEvent
from tests.factories import make_personal_token
from tokens.models import Token
from tokens.services import token_revoke, tokens_revoke_all


def test_revoking_marks_the_token_and_keeps_the_row(user):
    issued = make_personal_token(user)
    assert token_revoke(token=issued.token, actor=Actor(user=user), reason="lost laptop")
    token = Token.objects.get(pk=issued.token.pk)
    assert token.revoked_at is not None
    assert token.revoked_by == user
    assert token.revoke_reason == "lost laptop"
    assert token.status == "revoked"


def test_a_second_revoke_changes_nothing_and_records_nothing(user):
    issued = make_personal_token(user)
    assert token_revoke(token=issued.token, actor=Actor(user=user))
    first_time = Token.objects.get(pk=issued.token.pk).revoked_at
    stale = Token.objects.get(pk=issued.token.pk)
    stale.revoked_at = None  # a copy loaded before the first revoke
    assert not token_revoke(token=stale, actor=Actor(user=user))
    assert Token.objects.get(pk=issued.token.pk).revoked_at == first_time
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_revoke_all_revokes_every_live_personal_token_in_one_update(
    user, other_user, django_assert_num_queries
):
    for number in range(5):
        make_personal_token(user, name=f"token {number}")
    keep = make_personal_token(other_user, name="not mine")
    with django_assert_num_queries(1 + 1 + 2):  # UPDATE, audit INSERT, savepoint pair
        count = tokens_revoke_all(user=user, actor=Actor(user=user))
    assert count == 5
    assert not Token.objects.personal_for(user).unrevoked().exists()
    assert Token.objects.get(pk=keep.token.pk).revoked_at is None
    event = AuditEvent.objects.get(action="token.revoke_all")
    assert event.data == {"count": 5}


def test_revoke_all_with_nothing_to_revoke_records_nothing(user):
    assert tokens_revoke_all(user=user, actor=Actor(user=user)) == 0
    assert not AuditEvent.objects.filter(action="token.revoke_all").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_revokes_record_exactly_one_event():
    from tests.factories import make_user

    owner = make_user("race@example.test")
    issued = make_personal_token(owner)
    results = []
    barrier = threading.Barrier(4)

    def revoke():
        try:
            stale = Token.objects.get(pk=issued.token.pk)
            barrier.wait()
            results.append(token_revoke(token=stale, actor=Actor(user=owner)))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=revoke) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_audit_events_cannot_be_edited_or_deleted(user):
    make_personal_token(user)
    event = AuditEvent.objects.get()
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="forged")
    assert AuditEvent.objects.get().action == "token.create"
