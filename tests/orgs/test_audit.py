"""Every auditable action writes exactly one event with the right actor and target; the
audit page filters and pages through them."""

import re

import pytest
from django.urls import reverse

from orgs.audit import Actor
from orgs.models import AuditEvent, Membership
from tests.factories import make_ci_token, make_deployment_token, make_org, make_project, make_user
from tokens.services import token_reset, token_revoke, tokens_revoke_all

TOKEN_RE = re.compile(r"tdk_[a-z]+_[0-9A-Za-z]{38}")


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test", super_admin="admin@x.test")


@pytest.fixture
def owner(org):
    return Membership.objects.get(user__email="owner@x.test").user


def only_new_event(before_ids: set[int]) -> AuditEvent:
    new = AuditEvent.objects.exclude(pk__in=before_ids)
    assert new.count() == 1, list(new.values_list("action", flat=True))
    return new.get()


def ids() -> set[int]:
    return set(AuditEvent.objects.values_list("pk", flat=True))


def test_each_token_action_writes_one_event(org, owner):
    actor = Actor(user=owner, ip="198.51.100.9", user_agent="pytest")
    before = ids()
    issued = make_ci_token(org, owner)
    event = only_new_event(before)
    assert (event.action, event.actor_user, event.organization) == ("token.create", owner, org)
    assert (event.target_type, event.target_id) == ("token", issued.token.pk)

    before = ids()
    renewed = token_reset(token=issued.token, actor=actor)
    event = only_new_event(before)
    assert (event.action, event.ip, event.user_agent) == (
        "token.reset",
        "198.51.100.9",
        "pytest",
    )

    before = ids()
    token_revoke(token=renewed.token, actor=actor, reason="revoked in the dashboard")
    assert only_new_event(before).action == "token.revoke"

    web = make_project(org, "web")
    dep = make_deployment_token(web, owner).token
    before = ids()
    token_revoke(token=dep, actor=actor)
    assert only_new_event(before).target_label.startswith(dep.name)

    from tests.factories import make_personal_token

    make_personal_token(owner, name="a")
    make_personal_token(owner, name="b")
    before = ids()
    tokens_revoke_all(user=owner, actor=actor)
    event = only_new_event(before)
    assert (event.action, event.data) == ("token.revoke_all", {"count": 2})

    for event in AuditEvent.objects.all():
        assert not TOKEN_RE.search(str(event.__dict__))


def test_an_api_token_is_the_actor_when_it_acts(client, org, owner):
    admin_ci = make_ci_token(org, owner, name="automation", role="admin")
    before = ids()
    response = client.post(
        "/api/v1/tokens",
        {"name": "minted", "org": "acme", "role": "ci"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin_ci.plaintext}"},
    )
    assert response.status_code == 201
    event = only_new_event(before)
    assert event.actor_token_id == admin_ci.token.pk
    assert event.actor_label == f"token {admin_ci.token.preview}"
    assert event.actor_user is None


class TestAuditPage:
    @pytest.fixture
    def page(self, client, org, owner):
        client.force_login(owner)
        return client

    def test_filters_by_action_actor_and_token(self, page, org, owner):
        admin = Membership.objects.get(user__email="admin@x.test").user
        make_ci_token(org, owner, name="by owner")
        make_ci_token(org, admin, name="by admin")
        url = reverse("orgs:audit", args=["acme"])
        by_admin = page.get(url, {"actor": "admin@"}).content.decode()
        assert "by admin" in by_admin and "by owner" not in by_admin
        by_token = page.get(url, {"token": "by owner"}).content.decode()
        assert "by owner" in by_token and "by admin" not in by_token
        creates = page.get(url, {"action": "token.create"}).content.decode()
        assert creates.count('id="event-') == 2
        assert page.get(url, {"action": "not.real"}).status_code == 422
        assert page.get(url, {"since": "2030-01-02", "until": "2030-01-01"}).status_code == 422

    def test_keyset_pages_cost_the_same_at_any_depth(
        self, page, org, owner, django_assert_num_queries
    ):
        make_user("x@x.test")
        actor = Actor(user=owner)
        from orgs import audit

        for number in range(120):
            audit.record("org.token_policy", actor=actor, organization=org, data={"to": number})
        url = reverse("orgs:audit", args=["acme"])
        first = page.get(url)
        body = first.content.decode()
        assert body.count('id="event-') == 50
        older = re.search(r'href="([^"]*before=\d+)"', body).group(1).replace("&amp;", "&")
        # session, user, membership+org, navigation, events
        with django_assert_num_queries(5):
            second = page.get(older)
        assert second.content.decode().count('id="event-') == 50
        first_ids = set(re.findall(r'id="event-(\d+)"', body))
        assert not first_ids & set(re.findall(r'id="event-(\d+)"', second.content.decode()))

    def test_personal_activity_shows_only_my_tokens(self, client, org, owner):
        from tests.factories import make_personal_token

        mine = make_personal_token(owner, name="mine").token
        other = make_user("other@x.test")
        make_personal_token(other, name="theirs")
        client.force_login(owner)
        body = client.get(reverse("tokens:personal-activity")).content.decode()
        assert mine.name in body and "theirs" not in body
