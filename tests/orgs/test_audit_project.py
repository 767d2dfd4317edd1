"""Each audit event records the project it concerns, so a project-scoped token can be shown
its own project's events (docs/security.md); events recorded before are backfilled."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orgs import services
from orgs.audit import Actor, record
from orgs.models import AuditEvent, Membership
from tests.factories import (
    make_ci_token,
    make_deployment_token,
    make_org,
    make_personal_token,
    make_project,
)
from tokens.services import token_reset, token_revoke


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test")


@pytest.fixture
def owner(org):
    return Membership.objects.get(organization=org).user


def last_event(action):
    return AuditEvent.objects.filter(action=action).latest("id")


def test_a_projects_own_events_concern_it(org, owner):
    web = services.project_create(organization=org, name="Web", slug="", actor=Actor(user=owner))
    services.project_update(project=web, name="Website", maintainers=[], actor=Actor(user=owner))
    assert last_event("project.create").project == web
    assert last_event("project.update").project == web


def test_a_deployment_tokens_events_concern_its_project(org, owner):
    web = make_project(org, "web")
    issued = make_deployment_token(web, owner)
    token_reset(token=issued.token, actor=Actor(user=owner))
    token_revoke(token=issued.token, actor=Actor(user=owner))
    for action in ("token.create", "token.reset", "token.revoke"):
        assert last_event(action).project == web


def test_organization_and_personal_events_concern_no_project(org, owner):
    make_project(org, "web")  # a project exists, but none of these events is about it
    make_ci_token(org, owner)
    make_personal_token(owner)
    record("member.role_change", actor=Actor(user=owner), target=Membership.objects.get())
    events = AuditEvent.objects.values_list("action", "project")
    assert sorted(events) == [
        ("member.role_change", None),
        ("token.create", None),
        ("token.create", None),
    ]


BEFORE = [("orgs", "0002_deployment"), ("tokens", "0003_expiry_notified_for")]
AFTER = [
    ("orgs", "0004_audit_event_project_backfill"),
    ("tokens", "0005_backfill_creators_and_audit_projects"),
]


@pytest.mark.django_db(transaction=True)
def test_events_recorded_before_the_column_are_backfilled():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(email="o@x.test", password="!")
    acme = old.get_model("orgs", "Organization").objects.create(slug="acme", name="Acme")
    web = old.get_model("orgs", "Project").objects.create(organization=acme, slug="web", name="W")
    Token = old.get_model("tokens", "Token")

    def token(kind, n, **owner):
        return Token.objects.create(
            kind=kind, name=f"t{n}", digest=f"{n:064x}", preview=f"p{n}", **owner
        )

    dep = token("dep", 1, organization=acme, project=web, created_by=user)
    ci = token("ci", 2, organization=acme, created_by=user)
    minted = token("dep", 3, organization=acme, project=web)  # minted by `dep`, via the API
    Event = old.get_model("orgs", "AuditEvent")

    def event(action, target_type="", target_id=None, actor_token_id=None):
        return Event.objects.create(
            action=action, organization=acme, actor_label="x", target_type=target_type,
            target_id=target_id, actor_token_id=actor_token_id,
        ).pk  # fmt: skip

    project_event = event("project.update", "project", web.pk)
    dep_event = event("token.create", "token", dep.pk)
    minted_event = event("token.create", "token", minted.pk, actor_token_id=dep.pk)
    ci_event = event("token.create", "token", ci.pk)
    member_event = event("member.add", "membership", 99)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    projects = dict(new.get_model("orgs", "AuditEvent").objects.values_list("pk", "project_id"))
    assert projects == {
        project_event: web.pk,
        dep_event: web.pk,
        minted_event: web.pk,
        ci_event: None,
        member_event: None,
    }
    minted_now = new.get_model("tokens", "Token").objects.get(pk=minted.pk)
    # The token that minted it is known from the log, and so is the person behind it.
    assert (minted_now.created_by_token_id, minted_now.created_by_id) == (dep.pk, user.pk)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
