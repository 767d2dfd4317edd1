"""Rotation with overlap: a new secret for the same token while the previous one keeps
working for a while (tokens.services.token_rotate)."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from lib.errors import RuleError
from orgs.audit import Actor
from orgs.models import AuditEvent
from tests.factories import (
    make_ci_token,
    make_deployment_token,
    make_legacy_server_token,
    make_org,
    make_personal_token,
    make_project,
    make_user,
)
from tokens.models import Token
from tokens.services import (
    InvalidToken,
    TokenNotRenewable,
    token_end_overlap,
    token_reset,
    token_revoke,
    token_rotate,
    token_verify,
    tokens_revoke_leaked,
)


def _rotate(issued, user, hours=24, until_first_use=False):
    return token_rotate(
        token=issued.token,
        actor=Actor(user=user),
        overlap_hours=hours,
        until_first_use=until_first_use,
    )


def _refused(plaintext) -> str:
    with pytest.raises(InvalidToken) as caught:
        token_verify(plaintext)
    return caught.value.reason


def test_rotation_keeps_the_token_and_both_secrets_work_during_the_overlap(user):
    issued = make_personal_token(user, permissions={"tokens:read"}, expires_in_days=30)
    rotated = _rotate(issued, user, hours=24)
    token = Token.objects.get()
    assert rotated.token.pk == issued.token.pk == token.pk
    assert token.name == "laptop" and token.permissions == ["tokens:read"]
    assert rotated.plaintext != issued.plaintext
    assert token.previous_preview == issued.token.preview
    assert token.in_overlap
    old, new = token_verify(issued.plaintext), token_verify(rotated.plaintext)
    assert old.id == new.id == token.pk
    assert old.matched_previous and not new.matched_previous
    event = AuditEvent.objects.get(action="token.rotate")
    assert event.target_id == token.pk and event.data["overlap_hours"] == 24


@pytest.mark.parametrize("hours", [1, 24, 168])
def test_the_old_secret_is_refused_once_the_overlap_ends(user, hours):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user, hours=hours)
    now = timezone.now()
    with time_machine.travel(now + timedelta(hours=hours) - timedelta(seconds=5)):
        assert token_verify(issued.plaintext).matched_previous
    with time_machine.travel(now + timedelta(hours=hours, seconds=1)):
        assert _refused(issued.plaintext) == "rotated"
        assert token_verify(rotated.plaintext).id == issued.token.pk
        assert not Token.objects.get().in_overlap


def test_the_overlap_never_outlives_the_old_secrets_expiry(user):
    issued = make_personal_token(user, expires_in_days=1)
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        _rotate(issued, user, hours=168)
        token = Token.objects.get()
        assert token.previous_valid_until == issued.token.expires_at
        # The new secret lives as long as the old one did (1 day), from now.
        assert token.expires_at - token.created_at == timedelta(days=1)


def test_until_first_use_ends_the_overlap_at_the_new_secrets_first_request(user):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user, hours=168, until_first_use=True)
    assert token_verify(issued.plaintext).matched_previous  # old one used: overlap goes on
    assert Token.objects.get().in_overlap
    token_verify(rotated.plaintext)
    assert _refused(issued.plaintext) == "unknown"
    token = Token.objects.get()
    assert token.previous_digest is None and not token.in_overlap
    assert AuditEvent.objects.filter(action="token.rotation_first_use").count() == 1
    token_verify(rotated.plaintext)
    assert AuditEvent.objects.filter(action="token.rotation_first_use").count() == 1


def test_until_first_use_still_ends_at_the_chosen_overlap(user):
    issued = make_personal_token(user)
    _rotate(issued, user, hours=1, until_first_use=True)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert _refused(issued.plaintext) == "rotated"


def test_end_overlap_now_stops_the_old_secret_and_is_audited(user):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user)
    assert token_end_overlap(token=rotated.token, actor=Actor(user=user))
    assert _refused(issued.plaintext) == "unknown"
    assert token_verify(rotated.plaintext).id == issued.token.pk
    assert AuditEvent.objects.filter(action="token.overlap_end").count() == 1
    assert not token_end_overlap(token=rotated.token, actor=Actor(user=user))
    assert AuditEvent.objects.filter(action="token.overlap_end").count() == 1


def test_reset_ends_the_overlap_too(user):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user)
    reset = token_reset(token=rotated.token, actor=Actor(user=user))
    assert _refused(issued.plaintext) == "unknown"
    assert _refused(rotated.plaintext) == "unknown"
    assert token_verify(reset.plaintext).id == issued.token.pk


@pytest.mark.parametrize("which", ["old", "new"])
def test_revoking_or_a_leak_report_of_either_secret_ends_both(user, which):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user)
    leaked = issued.plaintext if which == "old" else rotated.plaintext
    report = tokens_revoke_leaked([leaked], actor=Actor())
    assert report.revoked == 1
    assert _refused(issued.plaintext) == "revoked"
    assert _refused(rotated.plaintext) == "revoked"


def test_a_leak_report_of_a_secret_whose_overlap_ended_changes_nothing(user):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user, hours=1)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert tokens_revoke_leaked([issued.plaintext], actor=Actor()).revoked == 0
        assert token_verify(rotated.plaintext).id == issued.token.pk


def test_revoke_ends_both(user):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user)
    token_revoke(token=rotated.token, actor=Actor(user=user))
    assert _refused(issued.plaintext) == _refused(rotated.plaintext) == "revoked"


def test_rotating_twice_leaves_one_current_and_one_previous_secret(user):
    first = make_personal_token(user)
    second = _rotate(first, user)
    third = _rotate(second, user)
    assert _refused(first.plaintext) == "unknown"
    assert token_verify(second.plaintext).matched_previous
    assert not token_verify(third.plaintext).matched_previous


@pytest.mark.parametrize("hours", [0, 2, 25, 169, -1])
def test_an_overlap_outside_the_choices_is_refused_and_nothing_changes(user, hours):
    issued = make_personal_token(user)
    with pytest.raises(RuleError) as caught:
        _rotate(issued, user, hours=hours)
    assert caught.value.field == "overlap_hours"
    token = Token.objects.get()
    assert token.digest == issued.token.digest and token.previous_digest is None
    assert not AuditEvent.objects.filter(action="token.rotate").exists()


def test_legacy_server_tokens_cannot_be_rotated(user):
    issued = make_legacy_server_token(make_org("acme", owner=user.email), user)
    with pytest.raises(TokenNotRenewable):
        _rotate(issued, user)


def test_a_revoked_token_cannot_be_rotated(user):
    issued = make_personal_token(user)
    token_revoke(token=issued.token, actor=Actor(user=user))
    with pytest.raises(RuleError):
        _rotate(issued, user)


def test_ci_and_deployment_tokens_rotate_too(user):
    organization = make_org("acme", owner=user.email)
    for issued in (
        make_ci_token(organization, user),
        make_deployment_token(make_project(organization), user),
    ):
        rotated = _rotate(issued, user, hours=1)
        assert token_verify(issued.plaintext).matched_previous
        assert token_verify(rotated.plaintext).id == issued.token.pk


def test_verification_is_one_query_for_either_secret(user, django_assert_num_queries):
    issued = make_personal_token(user)
    rotated = _rotate(issued, user)
    token_verify(issued.plaintext), token_verify(rotated.plaintext)  # first uses write
    for plaintext in (issued.plaintext, rotated.plaintext):
        with django_assert_num_queries(1):
            token_verify(plaintext)


def test_the_lookup_uses_the_two_unique_indexes(user):
    """No scan of the token table: both digest columns are looked up by index."""
    from tokens.lookup import lookup_sql

    issued = make_personal_token(user)
    for n in range(30):
        make_personal_token(user, name=f"t{n}")
    digest = issued.token.digest
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")  # a tiny table: show the plan it has
            cursor.execute("EXPLAIN " + lookup_sql(1), [digest, digest])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
            assert "previous_digest" in plan and "digest" in plan
            assert "Seq Scan on tokens_token" not in plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + lookup_sql(1), [digest, digest])
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert "MULTI-INDEX OR" in plan, plan
            assert "SCAN t\n" not in plan + "\n"


@pytest.mark.django_db(transaction=True)
def test_concurrent_rotations_leave_one_new_and_one_old_secret_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency: this runs with DATABASE_URL=postgres://…")
    owner = make_user("rotate@x.test")
    issued = make_personal_token(owner)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def rotate():
        try:
            barrier.wait()
            results.append(_rotate(issued, owner, hours=24))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 2
    valid = [
        plaintext
        for plaintext in (issued.plaintext, *(r.plaintext for r in results))
        if _verifies(plaintext)
    ]
    assert len(valid) == 2
    assert issued.plaintext not in valid
    assert sorted(token_verify(p).matched_previous for p in valid) == [False, True]
    assert AuditEvent.objects.filter(action="token.rotate").count() == 2


def _verifies(plaintext) -> bool:
    try:
        token_verify(plaintext)
    except InvalidToken:
        return False
    return True
