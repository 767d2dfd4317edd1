import pytest
from django.core import mail
from django.core.cache import cache

from orgs.models import AuditEvent, Membership
from tests.factories import make_ci_token, make_org, make_personal_token
from tokens import format as token_format
from tokens.models import Token

URL = "/api/v1/token-leaks"


@pytest.fixture(autouse=True)
def _fresh_rate_limit(db):
    cache.clear()


def report(client, tokens, ip="203.0.113.5"):
    return client.post(URL, {"tokens": tokens}, content_type="application/json", REMOTE_ADDR=ip)


def test_valid_tokens_are_revoked_audited_and_their_owners_told(
    client, user, django_capture_on_commit_callbacks
):
    leaked = make_personal_token(user, name="pasted in a gist")
    kept = make_personal_token(user, name="safe")
    with django_capture_on_commit_callbacks(execute=True):
        response = report(client, [leaked.plaintext, "hello", token_format.generate("ci", "tdk")])
    assert response.status_code == 200
    assert response.json() == {"received": 3, "well_formed": 2}
    assert Token.objects.get(pk=leaked.token.pk).revoked_at is not None
    assert Token.objects.get(pk=kept.token.pk).revoked_at is None
    event = AuditEvent.objects.get(action="token.leak_report")
    assert (event.target_id, event.ip) == (leaked.token.pk, "203.0.113.5")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email] and "exposed" in mail.outbox[0].subject
    assert leaked.plaintext not in mail.outbox[0].body


def test_the_answer_is_the_same_whatever_existed(client, user):
    existing = make_personal_token(user).plaintext
    unknown = token_format.generate("pat", "tdk")
    first = report(client, [existing])
    second = report(client, [unknown])
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"received": 1, "well_formed": 1}
    assert first["Content-Length"] == second["Content-Length"]


def test_an_org_token_notifies_the_owners_and_super_admins(
    client, db, django_capture_on_commit_callbacks
):
    org = make_org("acme", owner="owner@x.test", super_admin="admin@x.test")
    issued = make_ci_token(org, Membership.objects.get(role="owner").user)
    with django_capture_on_commit_callbacks(execute=True):
        report(client, [issued.plaintext])
    assert mail.outbox[0].to == ["admin@x.test", "owner@x.test"]


def test_no_authentication_is_needed_and_a_bearer_is_ignored(client, user):
    issued = make_personal_token(user)
    response = client.post(
        URL, {"tokens": []}, content_type="application/json",
        headers={"Authorization": "Bearer garbage"},
    )  # fmt: skip
    assert response.status_code == 200
    assert Token.objects.get(pk=issued.token.pk).revoked_at is None


def test_at_most_1000_tokens_per_call(client, db):
    response = report(client, ["x"] * 1001)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert report(client, ["x"] * 1000).status_code == 200


def test_reports_are_rate_limited_per_address(client, db):
    for _ in range(30):
        assert report(client, [], ip="198.51.100.1").status_code == 200
    limited = report(client, [], ip="198.51.100.1")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    assert report(client, [], ip="198.51.100.2").status_code == 200


def test_revoked_tokens_are_not_reported_twice(client, user, django_capture_on_commit_callbacks):
    leaked = make_personal_token(user)
    with django_capture_on_commit_callbacks(execute=True):
        report(client, [leaked.plaintext])
        report(client, [leaked.plaintext])
    assert AuditEvent.objects.filter(action="token.leak_report").count() == 1
    assert len(mail.outbox) == 1
