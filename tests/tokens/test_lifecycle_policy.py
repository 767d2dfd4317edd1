"""The organization's token lifecycle policy (issue 13 item 2): require an expiry, a maximum
lifetime that also binds personal tokens used on the organization, idle revocation."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from events import scheduler
from events.models import Delivery, Endpoint
from events.services import endpoint_create
from orgs.audit import Actor
from orgs.lifecycle import Policy, stricter_parts
from orgs.models import AuditEvent, Membership, Organization
from tests.factories import (
    make_ci_token,
    make_deployment_token,
    make_org,
    make_personal_token,
    make_project,
)
from tokens.lifecycle import IdleRun, revoke_idle_tokens
from tokens.models import Token
from tokens.services import token_issue, token_reset, token_touch

API = "/api/v1"
HTMX = {"HTTP_HX_REQUEST": "true"}


def bearer(plaintext: str) -> dict:
    return {"Authorization": f"Bearer {plaintext}"}


def set_policy(org: Organization, **values) -> None:
    for name, value in values.items():
        setattr(org, name, value)
    org.save()


@pytest.fixture
def orgs(db):
    """bob is a member of two organizations: acme (which sets policies) and other."""
    acme = make_org("acme", owner="owner@x.test", member="bob@x.test")
    other = make_org("other", member="bob@x.test")
    make_project(acme, "web")
    make_project(other, "web")
    return acme, other


def person(email: str):
    return Membership.objects.filter(user__email=email).first().user


# Personal tokens on an organization with a maximum lifetime ---------------------------------


def test_a_personal_token_over_the_limit_is_refused_on_that_organization_only(client, orgs):
    acme, _ = orgs
    set_policy(acme, max_token_lifetime_days=90)
    bob = person("bob@x.test")
    long = make_personal_token(bob, name="year", expires_in_days=365).plaintext
    short = make_personal_token(bob, name="quarter", expires_in_days=90).plaintext

    refused = client.get(f"{API}/orgs/acme/projects", headers=bearer(long))
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "token_lifetime_exceeds_policy"
    assert "at most 90 days" in body["detail"] and "365 days" in body["detail"]
    assert 'error="token_lifetime_exceeds_policy"' in refused["WWW-Authenticate"]
    # The same token keeps working elsewhere; a token within the limit works on acme.
    assert client.get(f"{API}/orgs/other/projects", headers=bearer(long)).status_code == 200
    assert client.get(f"{API}/whoami", headers=bearer(long)).status_code == 200
    assert client.get(f"{API}/orgs/acme/projects", headers=bearer(short)).status_code == 200


def test_a_personal_token_without_expiry_is_refused_where_one_is_required(client, orgs):
    acme, _ = orgs
    set_policy(acme, require_token_expiry=True)
    bob = person("bob@x.test")
    forever = make_personal_token(bob, name="forever").plaintext
    deploy = {"ref": "abc123"}
    response = client.post(
        f"{API}/orgs/acme/projects/web/deployments",
        deploy,
        content_type="application/json",
        headers=bearer(forever),
    )
    assert response.status_code == 403
    assert response.json()["error"] == "token_lifetime_exceeds_policy"
    assert "never" in response.json()["detail"]
    other = client.post(
        f"{API}/orgs/other/projects/web/deployments",
        deploy,
        content_type="application/json",
        headers=bearer(forever),
    )
    # other refuses personal-token deploys for its own reason, not the lifetime policy.
    assert other.json()["error"] != "token_lifetime_exceeds_policy"


def test_the_lifetime_is_what_the_token_was_given_not_what_is_left(client, orgs):
    acme, _ = orgs
    bob = person("bob@x.test")
    start = timezone.now()
    plaintext = make_personal_token(bob, name="year", expires_in_days=365).plaintext
    set_policy(acme, max_token_lifetime_days=90)
    with time_machine.travel(start + timedelta(days=300)):  # 65 days left, still a 365-day token
        response = client.get(f"{API}/orgs/acme/projects", headers=bearer(plaintext))
    assert response.status_code == 403


def test_an_owner_over_the_limit_cannot_manage_the_organizations_tokens(client, orgs):
    acme, _ = orgs
    owner = person("owner@x.test")
    ci = make_ci_token(acme, owner, name="pipeline").token
    admin = make_personal_token(
        owner, name="admin", permissions={"tokens:write", "orgs:read"}
    ).plaintext
    set_policy(acme, require_token_expiry=True)
    listed = client.get(f"{API}/tokens?org=acme", headers=bearer(admin))
    assert listed.status_code == 200 and listed.json()["items"] == []
    revoke = client.delete(f"{API}/tokens/{ci.pk}", headers=bearer(admin))
    assert revoke.status_code == 403
    assert revoke.json()["error"] == "token_lifetime_exceeds_policy"
    create = client.post(
        f"{API}/tokens",
        {"name": "new", "org": "acme", "expires_in_days": 30},
        content_type="application/json",
        headers=bearer(admin),
    )
    assert create.status_code == 403
    ci.refresh_from_db()
    assert ci.revoked_at is None
    # Its own personal tokens stay manageable.
    mine = client.get(f"{API}/tokens?type=personal", headers=bearer(admin)).json()["items"]
    assert [token["name"] for token in mine] == ["admin"]


def test_the_lifetime_decision_adds_no_query_to_verification(
    client, orgs, django_assert_num_queries
):
    acme, _ = orgs
    set_policy(acme, max_token_lifetime_days=90)
    plaintext = make_personal_token(person("bob@x.test"), expires_in_days=30).plaintext
    client.get(f"{API}/whoami", headers=bearer(plaintext))  # last use written
    # whoami: the one lookup, nothing else.
    with django_assert_num_queries(1):
        assert client.get(f"{API}/whoami", headers=bearer(plaintext)).status_code == 200
    # An organization's resource: the lookup, the membership (which brings the organization
    # and its policy), the projects' count and page: the same four queries as without one.
    with django_assert_num_queries(4):
        assert client.get(f"{API}/orgs/acme/projects", headers=bearer(plaintext)).status_code == 200
    set_policy(acme, max_token_lifetime_days=None)
    with django_assert_num_queries(4):
        assert client.get(f"{API}/orgs/acme/projects", headers=bearer(plaintext)).status_code == 200


# Require an expiry: CI and deployment tokens -----------------------------------------------


def test_require_expiry_removes_no_expiration_from_the_dialogs_and_refuses_it(client, orgs):
    acme, _ = orgs
    set_policy(acme, require_token_expiry=True)
    client.force_login(person("owner@x.test"))
    for url in (
        reverse("tokens:ci-create", args=["acme"]),
        reverse("tokens:deployment-generate", args=["acme", "web"]),
    ):
        html = client.get(url, **HTMX).content.decode()
        assert '<option value=""' not in html
        assert "“No expiration” is not allowed" in html
    ci = client.post(
        reverse("tokens:ci-create", args=["acme"]),
        {"name": "x", "role": "ci", "expires_in_days": ""},
        **HTMX,
    )
    assert ci.status_code == 422
    assert 'id="id_expires_in_days_error"' in ci.content.decode()
    deployment = client.post(reverse("tokens:deployment-generate", args=["acme", "web"]), **HTMX)
    assert deployment.status_code == 422
    assert "requires" in deployment.content.decode()
    assert not Token.objects.filter(organization=acme).exists()


def test_require_expiry_refuses_no_expiry_through_the_api(client, orgs):
    acme, _ = orgs
    # An organization admin token (made before the policy) creates CI tokens for acme.
    admin = make_ci_token(acme, person("owner@x.test"), name="admin", role="admin").plaintext
    set_policy(acme, require_token_expiry=True)
    refused = client.post(
        f"{API}/tokens",
        {"name": "forever", "org": "acme"},
        content_type="application/json",
        headers=bearer(admin),
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == "validation_error"
    assert "requires its tokens to expire" in refused.json()["detail"]
    created = client.post(
        f"{API}/tokens",
        {"name": "month", "org": "acme", "expires_in_days": 30},
        content_type="application/json",
        headers=bearer(admin),
    )
    assert created.status_code == 201
    names = Token.objects.filter(kind=Token.Kind.CI).values_list("name", flat=True)
    assert sorted(names) == ["admin", "month"]


def test_an_org_token_without_expiry_keeps_working_until_reset(client, orgs):
    acme, _ = orgs
    owner = person("owner@x.test")
    issued = make_ci_token(acme, owner)
    set_policy(acme, require_token_expiry=True)
    assert client.get(f"{API}/whoami", headers=bearer(issued.plaintext)).status_code == 200
    token = token_reset(token=issued.token, actor=Actor(user=owner)).token
    assert token.expires_at - token.created_at == timedelta(days=30)


# The policy on the CI tokens page ------------------------------------------------------------


@pytest.fixture
def owner_client(client, orgs):
    client.force_login(person("owner@x.test"))
    return client


def policy_url() -> str:
    return reverse("tokens:ci-policy", args=["acme"])


def test_a_stricter_policy_lists_the_tokens_it_catches_before_it_is_saved(owner_client, orgs):
    acme, _ = orgs
    owner, bob = person("owner@x.test"), person("bob@x.test")
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=40)):
        make_deployment_token(acme.projects.get(), owner, name="deploy Y")
    make_ci_token(acme, owner, name="CI X")
    make_personal_token(bob, name="year", expires_in_days=365)
    make_personal_token(bob, name="month", expires_in_days=30)
    body = {"require_expiry": "on", "max_lifetime_days": "90", "idle_revoke_days": "30"}
    response = owner_client.post(policy_url(), body, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="policy-confirm-dialog"' in html
    assert "CI token “CI X”" in html and "no expiry" in html
    assert "keeps working until reset" in html
    assert "personal token “year”" in html and "of bob@x.test" in html
    assert "lifetime 365 days" in html and "refused on Acme" in html
    assert "deploy Y" in html and "unused for 40 days" in html
    assert (start + timedelta(days=7)).strftime("revoked on %Y-%m-%d") in html
    assert "“month”" not in html
    acme.refresh_from_db()
    assert (acme.require_token_expiry, acme.max_token_lifetime_days) == (False, None)
    assert not AuditEvent.objects.filter(action="org.token_policy").exists()

    confirmed = owner_client.post(policy_url(), {**body, "confirmed": "on"}, **HTMX)
    assert confirmed.status_code == 200
    acme.refresh_from_db()
    assert acme.require_token_expiry is True
    assert acme.max_token_lifetime_days == 90 and acme.idle_token_revoke_days == 30
    event = AuditEvent.objects.get(action="org.token_policy")
    assert event.data["to"] == {
        "require_expiry": True,
        "max_lifetime_days": 90,
        "idle_revoke_days": 30,
    }


def test_a_looser_policy_is_saved_at_once(owner_client, orgs):
    acme, _ = orgs
    set_policy(acme, require_token_expiry=True, max_token_lifetime_days=30)
    response = owner_client.post(policy_url(), {"max_lifetime_days": "60"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.require_token_expiry, acme.max_token_lifetime_days) == (False, 60)


def test_without_javascript_the_confirmation_is_the_page_with_the_dialog_open(owner_client):
    response = owner_client.post(policy_url(), {"idle_revoke_days": "90"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2>CI / integration tokens</h2>" in html
    assert 'id="policy-confirm-dialog"' in html and "No existing token breaks" in html


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"idle_revoke_days": "29"}, "idle_revoke_days"),
        ({"idle_revoke_days": "366"}, "idle_revoke_days"),
        ({"idle_revoke_days": "abc"}, "idle_revoke_days"),
        ({"max_lifetime_days": "0"}, "max_lifetime_days"),
        ({"max_lifetime_days": "99999999999999999999"}, "max_lifetime_days"),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_policy_values_are_a_message_next_to_the_field(owner_client, orgs, body, field, htmx):
    response = owner_client.post(
        policy_url(), {**body, "confirmed": "on"}, **(HTMX if htmx else {})
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    if htmx:
        assert response["HX-Retarget"] == "#token-policy"
    acme = orgs[0]
    acme.refresh_from_db()
    assert acme.idle_token_revoke_days is None and acme.max_token_lifetime_days is None
    assert not AuditEvent.objects.filter(action="org.token_policy").exists()


def test_members_cannot_reach_the_policy(client, orgs):
    client.force_login(person("bob@x.test"))
    assert (
        client.post(policy_url(), {"idle_revoke_days": "30", "confirmed": "on"}).status_code == 404
    )


# The API ----------------------------------------------------------------------------------------


def test_the_policy_through_the_api(client, orgs):
    acme, _ = orgs
    owner = person("owner@x.test")
    admin = make_personal_token(
        owner, name="admin", permissions={"orgs:write"}, expires_in_days=30
    ).plaintext
    make_ci_token(acme, owner, name="CI X")
    url = f"{API}/orgs/acme/token-policy"
    got = client.get(url, headers=bearer(admin))
    assert got.json() == {
        "require_expiry": False,
        "max_lifetime_days": None,
        "idle_revoke_days": None,
    }
    put = client.put(
        url,
        {"require_expiry": True, "max_lifetime_days": 90, "idle_revoke_days": None},
        content_type="application/json",
        headers=bearer(admin),
    )
    assert put.status_code == 200, put.content
    saved = put.json()
    assert saved["require_expiry"] is True and saved["max_lifetime_days"] == 90
    assert saved["affected_count"] == 1
    assert saved["affected"][0]["name"] == "CI X" and saved["affected"][0]["problem"] == "no expiry"
    patch = client.patch(
        url, {"idle_revoke_days": 60}, content_type="application/json", headers=bearer(admin)
    )
    assert patch.json()["idle_revoke_days"] == 60 and patch.json()["max_lifetime_days"] == 90
    acme.refresh_from_db()
    assert (acme.require_token_expiry, acme.max_token_lifetime_days) == (True, 90)
    assert acme.idle_token_revoke_days == 60
    assert AuditEvent.objects.filter(action="org.token_policy").count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"idle_revoke_days": 29},
        {"idle_revoke_days": 366},
        {"idle_revoke_days": "abc"},
        {"max_lifetime_days": 0},
        {"max_lifetime_days": 10**20},
        {"require_expiry": None},
        {"require_expiry": "maybe"},
    ],
)
def test_bad_policy_values_through_the_api_are_422_and_change_nothing(client, orgs, body):
    owner = person("owner@x.test")
    admin = make_personal_token(owner, name="admin", permissions={"orgs:write"}).plaintext
    response = client.patch(
        f"{API}/orgs/acme/token-policy",
        body,
        content_type="application/json",
        headers=bearer(admin),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert next(iter(body)) in response.json()["detail"]
    acme = orgs[0]
    acme.refresh_from_db()
    assert (acme.require_token_expiry, acme.idle_token_revoke_days) == (False, None)
    assert acme.max_token_lifetime_days is None
    assert not AuditEvent.objects.filter(action="org.token_policy").exists()


def test_changing_the_policy_needs_orgs_write_from_an_admin(client, orgs):
    acme, _ = orgs
    owner, bob = person("owner@x.test"), person("bob@x.test")
    url = f"{API}/orgs/acme/token-policy"
    body = {"idle_revoke_days": 30}
    reader = make_personal_token(owner, name="reader", permissions={"orgs:read"}).plaintext
    member = make_personal_token(bob, name="member", permissions={"orgs:write"}).plaintext
    assert client.get(url, headers=bearer(member)).status_code == 200
    for plaintext in (reader, member):
        response = client.patch(
            url, body, content_type="application/json", headers=bearer(plaintext)
        )
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
    outsider = make_personal_token(
        make_org("elsewhere", owner="eve@x.test").memberships.get().user,
        permissions={"orgs:write"},
    ).plaintext
    assert (
        client.patch(
            url, body, content_type="application/json", headers=bearer(outsider)
        ).status_code
        == 404
    )
    deployment = token_issue(
        kind=Token.Kind.DEPLOYMENT,
        project=acme.projects.get(),
        name="deploy",
        permissions=frozenset({"orgs:write"}),
        actor=Actor(user=owner),
    ).plaintext
    refused = client.patch(url, body, content_type="application/json", headers=bearer(deployment))
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    acme.refresh_from_db()
    assert acme.idle_token_revoke_days is None
    # An organization token with the Admin role has orgs:write.
    ci_admin = make_ci_token(acme, owner, name="admin", role="admin").plaintext
    saved = client.patch(url, body, content_type="application/json", headers=bearer(ci_admin))
    assert saved.status_code == 200 and saved.json()["idle_revoke_days"] == 30
    event = AuditEvent.objects.get(action="org.token_policy")
    assert event.actor_label.startswith("token tdk_ci_")


# Idle revocation ----------------------------------------------------------------------------


@pytest.fixture
def idle_world(orgs):
    acme, other = orgs
    set_policy(acme, idle_token_revoke_days=30)
    owner, bob = person("owner@x.test"), person("bob@x.test")
    start = timezone.now()
    tokens = {
        "ci": make_ci_token(acme, owner, name="nightly").token,
        "pat": make_personal_token(bob, name="laptop").token,
        "other": make_ci_token(other, bob, name="not governed").token,
    }
    return start, tokens


def revoked(token: Token) -> bool:
    token.refresh_from_db()
    return token.revoked_at is not None


def test_idle_tokens_are_warned_once_then_revoked_once(idle_world, settings):
    start, tokens = idle_world
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    endpoint, _ = endpoint_create(
        organization=tokens["ci"].organization,
        url="http://127.0.0.1:9/hook",
        events=["token.idle_revoked"],
        description="",
        actor=Actor(),
    )
    with time_machine.travel(start + timedelta(days=22)):
        assert revoke_idle_tokens().warned == 0  # more than 7 days from the limit
    with time_machine.travel(start + timedelta(days=23, minutes=1)):
        assert revoke_idle_tokens().warned == 2
        assert revoke_idle_tokens().warned == 0  # cron again, a minute later: nothing new
    assert sorted(tuple(message.to) for message in mail.outbox) == [
        ("bob@x.test",),
        ("owner@x.test",),
    ]
    warning = next(message for message in mail.outbox if message.to == ["owner@x.test"])
    assert "“nightly”" in warning.subject and "will be revoked" in warning.subject
    assert "Acme revokes tokens unused for 30 days" in warning.body
    assert "/orgs/acme/settings/tokens/" in warning.body
    personal = next(message for message in mail.outbox if message.to == ["bob@x.test"])
    assert "Acme revokes tokens unused for 30 days (personal tokens included)" in personal.body
    assert "/settings/tokens/" in personal.body
    with time_machine.travel(start + timedelta(days=29, hours=23)):
        assert revoke_idle_tokens().revoked == 0
    with time_machine.travel(start + timedelta(days=30, minutes=2)):
        assert revoke_idle_tokens().revoked == 2
        assert revoke_idle_tokens() == IdleRun(warned=0, revoked=0)
    assert revoked(tokens["ci"]) and revoked(tokens["pat"]) and not revoked(tokens["other"])
    events = AuditEvent.objects.filter(action="token.revoke", data__reason="idle")
    assert sorted(events.values_list("target_id", flat=True)) == sorted(
        [tokens["ci"].pk, tokens["pat"].pk]
    )
    assert events.get(target_id=tokens["ci"].pk).actor_label == "system"
    assert len(mail.outbox) == 2  # the warnings only
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event_type == "token.idle_revoked"
    assert delivery.payload["token"]["name"] == "nightly"


def test_a_token_used_after_its_warning_is_kept_and_warned_again_later(idle_world):
    start, tokens = idle_world
    with time_machine.travel(start + timedelta(days=24)):
        revoke_idle_tokens()
    with time_machine.travel(start + timedelta(days=26)):
        token_touch(tokens["ci"], ip="203.0.113.7")
    with time_machine.travel(start + timedelta(days=31)):
        assert revoke_idle_tokens().revoked == 1  # only the personal token
    assert not revoked(tokens["ci"])
    with time_machine.travel(start + timedelta(days=26 + 23, minutes=1)):
        assert revoke_idle_tokens().warned == 1
    with time_machine.travel(start + timedelta(days=26 + 30, minutes=2)):
        assert revoke_idle_tokens().revoked == 1
    assert revoked(tokens["ci"])


def test_a_long_idle_token_gets_its_seven_days_when_the_policy_starts(orgs):
    acme, _ = orgs
    start = timezone.now()
    make_ci_token(acme, person("owner@x.test"), name="ancient")
    with time_machine.travel(start + timedelta(days=200)):
        set_policy(acme, idle_token_revoke_days=30)
        assert revoke_idle_tokens().warned == 1
    with time_machine.travel(start + timedelta(days=206)):
        assert revoke_idle_tokens().revoked == 0
    with time_machine.travel(start + timedelta(days=207, minutes=1)):
        assert revoke_idle_tokens().revoked == 1


def test_a_personal_token_lives_under_its_users_strictest_organization(orgs):
    acme, other = orgs
    set_policy(acme, idle_token_revoke_days=90)
    set_policy(other, idle_token_revoke_days=30)
    start = timezone.now()
    token = make_personal_token(person("bob@x.test"), name="laptop").token
    owners = make_personal_token(person("owner@x.test"), name="owner laptop").token
    with time_machine.travel(start + timedelta(days=23, minutes=1)):
        assert revoke_idle_tokens().warned == 1  # bob's (30 days); the owner's is under 90
    with time_machine.travel(start + timedelta(days=30, minutes=2)):
        assert revoke_idle_tokens().revoked == 1
    assert revoked(token) and not revoked(owners)


def test_the_command_and_the_worker_run_it(idle_world, capsys):
    start, _ = idle_world
    with time_machine.travel(start + timedelta(days=24)):
        call_command("revoke_idle_tokens")
    assert "Warned about 2 idle tokens; revoked 0." in capsys.readouterr().out
    assert "idle tokens" in dict(scheduler.SCHEDULED)
    with time_machine.travel(start + timedelta(days=31)):
        assert scheduler.tick()["idle tokens"] == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_warn_once_and_revoke_once_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency: this runs with DATABASE_URL=postgres://…")
    acme = make_org("acme", owner="owner@x.test")
    set_policy(acme, idle_token_revoke_days=30)
    owner = person("owner@x.test")
    start = timezone.now()
    tokens = [make_ci_token(acme, owner, name=f"ci {n}").token for n in range(5)]

    def concurrently(moment) -> list:
        barrier = threading.Barrier(2)
        results, errors = [], []

        def run():
            try:
                barrier.wait()
                results.append(revoke_idle_tokens(now=moment))
            except Exception as error:  # reported by the assertion below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        return results

    warned = concurrently(start + timedelta(days=24))
    assert sum(run.warned for run in warned) == 5
    assert len(mail.outbox) == 5
    done = concurrently(start + timedelta(days=31))
    assert sum(run.revoked for run in done) == 5
    assert all(revoked(token) for token in tokens)
    assert AuditEvent.objects.filter(action="token.revoke", data__reason="idle").count() == 5
    assert Endpoint.objects.count() == 0


# The rules themselves ---------------------------------------------------------------------


def test_which_changes_are_stricter():
    none = Policy()
    assert stricter_parts(none, Policy(require_expiry=True)) == ["require_expiry"]
    assert stricter_parts(Policy(max_lifetime_days=90), Policy(max_lifetime_days=30)) == [
        "max_lifetime_days"
    ]
    assert stricter_parts(Policy(max_lifetime_days=30), Policy(max_lifetime_days=90)) == []
    assert stricter_parts(Policy(idle_revoke_days=90), Policy()) == []
    assert stricter_parts(none, Policy(idle_revoke_days=365)) == ["idle_revoke_days"]
    # Looser on one side, stricter on another: stricter, so confirmed.
    mixed = stricter_parts(Policy(require_expiry=True), Policy(idle_revoke_days=30))
    assert mixed == ["idle_revoke_days"]


def test_the_personal_token_dialog_names_the_organizations_that_would_refuse_it(client, orgs):
    acme, other = orgs
    set_policy(acme, max_token_lifetime_days=90)
    set_policy(other, require_token_expiry=True)
    client.force_login(person("bob@x.test"))
    html = client.get(reverse("tokens:personal-create"), **HTMX).content.decode()
    assert "Acme refuses personal tokens that never expire or live longer than 90 days." in html
    assert "Other refuses personal tokens that never expire." in html
    client.force_login(person("owner@x.test"))
    set_policy(acme, max_token_lifetime_days=None)
    html = client.get(reverse("tokens:personal-create"), **HTMX).content.decode()
    assert 'id="org-expiry-rules"' not in html
