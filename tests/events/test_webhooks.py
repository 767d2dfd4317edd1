"""Webhook deliveries to a real HTTP receiver on loopback."""

import json
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from events import scheduler, services
from events.models import Delivery, Endpoint
from orgs import services as org_services
from orgs.audit import Actor
from tests import factories
from tests.events.conftest import add_endpoint
from tokens import services as token_services

DOCS = Path(settings.BASE_DIR) / "docs" / "webhooks.md"


def documented_verify():
    """The verification snippet of docs/webhooks.md, executed as written."""
    text = DOCS.read_text()
    block = text.split("<!-- verify-snippet -->", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace["verify"]


def deliveries_of(endpoint):
    return list(Delivery.objects.filter(endpoint=endpoint).order_by("id"))


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Deliveries are queued after the transaction commits; run those jobs (inline: the
    tests use the immediate backend)."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def test_signature_verifies_with_the_documented_snippet(org, owner, receiver, run_on_commit):
    endpoint, secret = add_endpoint(org, receiver.url, ["token.created"], owner)
    issued = run_on_commit(lambda: factories.make_ci_token(org, owner, name="GitHub Actions"))

    [hit] = receiver.received
    header = hit.headers["Tokendesk-Signature"]
    verify = documented_verify()
    assert verify(secret, hit.body, header)
    assert not verify(secret, hit.body.replace(b"GitHub", b"GitLab"), header)
    assert not verify("whsec_wrong", hit.body, header)
    timestamp = int(header.split(",")[0].removeprefix("t="))
    stale = header.replace(f"t={timestamp}", f"t={timestamp - 3600}")
    assert not verify(secret, hit.body, stale)

    payload = json.loads(hit.body)
    assert payload["type"] == "token.created"
    assert hit.headers["Tokendesk-Event"] == "token.created"
    assert payload["organization"] == {"slug": "acme", "name": "Acme"}
    assert payload["token"] == {
        "id": issued.token.pk,
        "name": "GitHub Actions",
        "kind": "ci",
        "preview": issued.token.preview,
        "owner": None,
        "expires_at": None,
        "project": None,
    }
    assert payload["actor"] == "owner@acme.test"
    [delivery] = deliveries_of(endpoint)
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.response_code == 200
    assert str(delivery.event_id) == payload["id"] == hit.headers["Tokendesk-Event-Id"]


def test_only_subscribed_active_endpoints_of_the_organization_receive(
    org, owner, receiver, run_on_commit
):
    add_endpoint(org, receiver.url, ["token.revoked"], owner)
    other = factories.make_org("other", owner="o@other.test")
    add_endpoint(other, receiver.url, ["token.created"], None)
    paused, _ = add_endpoint(org, receiver.url, ["token.created"], owner)
    Endpoint.objects.filter(pk=paused.pk).update(is_active=False)

    run_on_commit(lambda: factories.make_ci_token(org, owner))

    assert receiver.received == []


def test_a_500_then_200_is_redelivered_once_after_backoff(org, owner, receiver, run_on_commit):
    receiver.answers = [500]
    endpoint, _ = add_endpoint(org, receiver.url, ["token.created"], owner)
    run_on_commit(lambda: factories.make_ci_token(org, owner))

    [delivery] = deliveries_of(endpoint)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("retrying", 500, 1)
    first_try = delivery.last_attempt_at
    assert delivery.next_attempt_at == first_try + services.FIRST_RETRY

    assert services.retry_due(now=first_try + timedelta(seconds=29)) == 0
    assert len(receiver.received) == 1
    assert services.retry_due(now=first_try + timedelta(seconds=31)) == 1
    assert services.retry_due(now=first_try + timedelta(hours=30)) == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 200, 2)
    assert len(receiver.received) == 2
    first, second = (json.loads(body) for body in receiver.bodies())
    assert first == second  # the same event, same id


def test_backoff_doubles_up_to_four_hours():
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert services.backoff(30) == timedelta(hours=4)


def test_after_24_hours_of_failures_the_endpoint_is_failing_and_owners_told(
    org, owner, receiver, run_on_commit
):
    receiver.default = 503
    endpoint, _ = add_endpoint(org, receiver.url, ["token.created"], owner)
    run_on_commit(lambda: factories.make_ci_token(org, owner))
    [delivery] = deliveries_of(endpoint)
    mail.outbox.clear()

    while delivery.status == Delivery.Status.RETRYING:
        assert services.retry_due(now=delivery.next_attempt_at) == 1
        delivery.refresh_from_db()

    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_attempt_at == delivery.created_at + timedelta(hours=24)
    assert 10 < delivery.attempts < 30
    assert len(receiver.received) == delivery.attempts
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    [notice] = mail.outbox
    assert sorted(notice.to) == ["admin@acme.test", "owner@acme.test"]
    assert endpoint.url in notice.subject

    # A later success clears the mark; the owners are not told twice meanwhile.
    receiver.default = 200
    run_on_commit(lambda: services.send_test_event(endpoint=endpoint))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert len(mail.outbox) == 1


def test_a_hanging_receiver_times_out(org, owner, receiver, run_on_commit, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.answers = ["hang"]
    endpoint, _ = add_endpoint(org, receiver.url, ["token.created"], owner)
    run_on_commit(lambda: factories.make_ci_token(org, owner))

    [delivery] = deliveries_of(endpoint)
    assert delivery.status == Delivery.Status.RETRYING
    assert delivery.response_code is None
    assert "Timed out after 1 s" in delivery.error
    assert 900 <= delivery.duration_ms < 2500


def test_redirects_are_not_followed(org, owner, receiver, run_on_commit):
    receiver.answers = [302]
    endpoint, _ = add_endpoint(org, receiver.url, ["token.created"], owner)
    run_on_commit(lambda: factories.make_ci_token(org, owner))

    [delivery] = deliveries_of(endpoint)
    assert (delivery.status, delivery.response_code) == ("retrying", 302)
    assert delivery.error == "Redirects are not followed."
    assert [hit.path for hit in receiver.received] == ["/hook"]


def test_no_secret_in_any_payload(org, owner, receiver, run_on_commit):
    endpoint, signing_secret = add_endpoint(org, receiver.url, user=owner)
    project = factories.make_project(org)
    actor = Actor(user=owner)
    ci = run_on_commit(lambda: factories.make_ci_token(org, owner))
    deploy = run_on_commit(lambda: factories.make_deployment_token(project, owner))
    reset = getattr(token_services, "token_reset", None) or token_services.token_regenerate
    again = run_on_commit(lambda: reset(token=ci.token, actor=actor))
    run_on_commit(lambda: token_services.token_revoke(token=again.token, actor=actor))
    leaked = factories.make_ci_token(org, owner, name="leaky")
    run_on_commit(lambda: token_services.tokens_revoke_leaked([leaked.plaintext], actor=Actor()))

    secrets_known = [
        ci.plaintext, again.plaintext, deploy.plaintext, leaked.plaintext, signing_secret,
        ci.token.digest, again.token.digest, endpoint.secret_encrypted,
    ]  # fmt: skip
    types = [json.loads(body)["type"] for body in receiver.bodies()]
    assert types == [
        "token.created", "token.created", "token.reset", "token.revoked", "token.leaked",
    ]  # fmt: skip
    # "leaky" was created outside run_on_commit: its job was never queued, so the delivery
    # waits, pending, for the scheduler.
    assert services.retry_due() == 1
    assert json.loads(receiver.bodies()[-1])["type"] == "token.created"
    for body in receiver.bodies():
        text = body.decode()
        for secret in secrets_known:
            assert secret not in text
        assert "digest" not in text


def test_member_events(org, owner, receiver, run_on_commit):
    add_endpoint(org, receiver.url, ["member.added", "member.role_changed", "member.removed"])
    actor = Actor(user=owner)
    by = org.memberships.get(user=owner)
    factories.make_user("new@acme.test")
    membership = run_on_commit(
        lambda: org_services.membership_add(
            organization=org, email="new@acme.test", role="member", by=by, actor=actor
        )
    )
    run_on_commit(
        lambda: org_services.membership_change_role(
            membership=membership, role="super_admin", by=by, actor=actor
        )
    )
    run_on_commit(lambda: org_services.membership_remove(membership=membership, by=by, actor=actor))
    received = [json.loads(body) for body in receiver.bodies()]
    assert [(e["type"], e["member"]) for e in received] == [
        ("member.added", {"email": "new@acme.test", "role": "member"}),
        (
            "member.role_changed",
            {"email": "new@acme.test", "role": "super_admin", "previous_role": "member"},
        ),
        ("member.removed", {"email": "new@acme.test", "role": "super_admin"}),
    ]


@pytest.mark.parametrize(
    ("action", "data", "expected"),
    [
        ("token.create", {}, "token.created"),
        ("token.regenerate", {}, "token.reset"),  # stored before the rename
        ("token.reset", {}, "token.reset"),
        ("token.rotate", {}, "token.rotated"),
        ("token.revoke", {}, "token.revoked"),
        ("token.revoke", {"reason": "deleted"}, "token.deleted"),
        ("token.delete", {"reason": "deleted"}, "token.deleted"),  # stored before the change
        ("token.leak_report", {"reason": "reported leaked"}, "token.leaked"),
        ("token.idle_revoke", {}, "token.idle_revoked"),
        ("token.revoke", {"reason": "idle"}, "token.idle_revoked"),
        ("token.revoke", {"reason": "reported leaked"}, "token.revoked"),
        ("member.add", {}, "member.added"),
        ("member.remove", {}, "member.removed"),
        ("member.role_change", {}, "member.role_changed"),
        ("project.create", {}, None),
        ("legacy.use", {}, None),
    ],
)
def test_audit_actions_old_and_new_map_to_webhook_types(action, data, expected):
    assert services.webhook_type(action, data) == expected


def test_redeliver_sends_the_same_event_again(org, owner, receiver, run_on_commit):
    endpoint, _ = add_endpoint(org, receiver.url, ["token.created"], owner)
    run_on_commit(lambda: factories.make_ci_token(org, owner))
    [first] = deliveries_of(endpoint)
    run_on_commit(lambda: services.redeliver(delivery=first))
    _, second = deliveries_of(endpoint)
    assert second.event_id == first.event_id and second.status == "delivered"
    assert [json.loads(b)["id"] for b in receiver.bodies()] == [str(first.event_id)] * 2


# Expiry events, once, with several workers --------------------------------------------------


def _expiring_tokens(org, owner, now):
    days = {"soon": 1, "week": 5, "month": 20, "later": 60}
    tokens = {}
    for name, left in days.items():
        issued = factories.make_ci_token(org, owner, name=name)
        issued.token.expires_at = now + timedelta(days=left, hours=-1)
        issued.token.save(update_fields=["expires_at"])
        tokens[name] = issued.token
    return tokens


def _ticks_in_parallel(now, workers=2):
    barrier = threading.Barrier(workers)
    errors = []

    def work():
        try:
            barrier.wait()
            scheduler.emit_expiry_events(now=now)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def _expiry_events(receiver):
    events = [json.loads(body) for body in receiver.bodies()]
    return sorted(
        (e["token"]["name"], e["type"], e.get("days_left"))
        for e in events
        if e["type"] in {"token.expiring", "token.expired"}
    )


@pytest.mark.django_db(transaction=True)
def test_each_expiry_event_is_sent_once_with_two_workers(receiver):
    organization = factories.make_org("acme", owner="owner@acme.test")
    owner = organization.memberships.get().user
    add_endpoint(organization, receiver.url, ["token.expiring", "token.expired"], owner)
    now = timezone.now()
    _expiring_tokens(organization, owner, now)

    _ticks_in_parallel(now)
    _ticks_in_parallel(now)
    assert _expiry_events(receiver) == [
        ("month", "token.expiring", 30),
        ("soon", "token.expiring", 1),
        ("week", "token.expiring", 7),
    ]

    # Six days on, "week" and "soon" have expired; two weeks on, "month" is within 7 days.
    _ticks_in_parallel(now + timedelta(days=6))
    _ticks_in_parallel(now + timedelta(days=14))
    _ticks_in_parallel(now + timedelta(days=14))
    assert _expiry_events(receiver) == [
        ("month", "token.expiring", 7),
        ("month", "token.expiring", 30),
        ("soon", "token.expired", None),
        ("soon", "token.expiring", 1),
        ("week", "token.expired", None),
        ("week", "token.expiring", 7),
    ]


def test_the_scheduler_tick_runs_every_piece(org, owner, receiver):
    add_endpoint(org, receiver.url, ["token.expiring"], owner)
    now = timezone.now()
    _expiring_tokens(org, owner, now)
    # A minute on: the new deliveries (whose jobs were never queued here) are due.
    done = scheduler.tick(now=now + timedelta(minutes=1))
    assert done == {
        "expiry e-mails": 2,
        "expiry events": 3,
        "idle tokens": 0,
        "webhook retries": 3,
        "finished jobs pruned": 0,
        "token usage purged": 0,
        "exchanged tokens pruned": 0,
    }
    assert len(receiver.received) == 3
