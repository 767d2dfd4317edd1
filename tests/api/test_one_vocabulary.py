"""One name per operation (issue 10): reset and revoke. The former API path answers as a
deprecated alias, the ninja handlers answer rule and configuration errors, and audit events
stored under the former names read and filter as the current ones."""

import pytest
from django.urls import reverse

from lib.errors import RuleError
from orgs.models import AuditEvent, Membership
from tests.factories import make_ci_token, make_org, make_project
from tokens.api.core import _rule_error
from tokens.models import Token

API = "/api/v1"


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@acme.test")


def _owner(org):
    return Membership.objects.get(organization=org).user


@pytest.fixture
def admin(org):
    return make_ci_token(org, _owner(org), name="admin", role="admin").plaintext


def post(client, token, path, **extra):
    return client.post(API + path, headers={"Authorization": f"Bearer {token}"}, **extra)


@pytest.mark.parametrize("verb", ["reset", "regenerate"])
def test_reset_and_its_deprecated_alias_both_give_a_new_secret(client, org, admin, verb):
    target = make_ci_token(org, _owner(org), name="target")
    response = post(client, admin, f"/tokens/{target.token.pk}/{verb}")
    assert response.status_code == 200
    assert response.json()["token"] != target.plaintext
    assert AuditEvent.objects.filter(action="token.reset", target_id=target.token.pk).exists()
    assert not AuditEvent.objects.filter(action="token.regenerate").exists()


def test_only_the_former_path_is_deprecated_in_the_schema(client, db):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    assert paths["/api/v1/tokens/{token_id}/regenerate"]["post"]["deprecated"] is True
    assert not paths["/api/v1/tokens/{token_id}/reset"]["post"].get("deprecated")


def test_revoking_through_the_api_is_recorded_as_a_revoke(client, org, admin):
    target = make_ci_token(org, _owner(org), name="target").token
    response = client.delete(
        f"{API}/tokens/{target.pk}", headers={"Authorization": f"Bearer {admin}"}
    )
    assert response.status_code == 204
    event = AuditEvent.objects.get(target_id=target.pk, action="token.revoke")
    assert event.data == {"reason": "revoked through the API"}


def test_a_rule_error_answers_422_json(client, org, admin):
    make_project(org, "web")
    response = post(
        client,
        admin,
        "/orgs/acme/projects/web/deployments",
        data={"ref": "main", "environment": "no spaces allowed"},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error" and "environment" in body["detail"].lower()


def test_a_rule_error_may_name_its_own_status_and_code(rf):
    class Gone(RuleError):
        status, error = 410, "gone"

    response = _rule_error(rf.get("/api/v1/x"), Gone("It went away."))
    assert response.status_code == 410
    assert b'"error": "gone"' in response.content and b"It went away." in response.content


def test_missing_configuration_answers_503_json(client, db, settings):
    settings.TOKEN_HASH_SALT = ""
    response = client.post(
        f"{API}/token-leaks", data={"tokens": ["x"]}, content_type="application/json"
    )
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "server_misconfigured" and "TOKEN_HASH_SALT" in body["detail"]


@pytest.fixture
def former_events(org):
    token = make_ci_token(org, _owner(org), name="old one").token
    reset = AuditEvent.objects.create(
        action="token.regenerate", organization=org, target_type="token", target_id=token.pk,
        target_label="old one", actor_label="owner@acme.test",
    )  # fmt: skip
    deleted = AuditEvent.objects.create(
        action="token.delete", organization=org, target_type="token", target_id=token.pk,
        target_label="old one", actor_label="owner@acme.test", data={"reason": "deleted"},
    )  # fmt: skip
    return reset, deleted


def test_former_action_names_read_as_the_current_ones(client, org, former_events):
    client.force_login(_owner(org))
    page = client.get(reverse("orgs:audit", args=["acme"])).content.decode()
    assert '<span class="chip">token.reset</span> Token reset' in page
    assert '<span class="chip">token.revoke</span> Token revoked' in page
    assert "token.regenerate" not in page and "token.delete" not in page


@pytest.mark.parametrize(
    ("action", "index"),
    [("token.reset", 0), ("token.revoke", 1), ("token.regenerate", 0), ("token.delete", 1)],
)
def test_the_audit_filters_match_former_names(client, org, former_events, action, index):
    client.force_login(_owner(org))
    response = client.get(reverse("orgs:audit", args=["acme"]), {"action": action})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="event-{former_events[index].pk}"' in page
    assert f'id="event-{former_events[1 - index].pk}"' not in page


def test_the_api_audit_log_names_and_filters_former_events_by_the_current_name(
    client, org, admin, former_events
):
    response = client.get(
        f"{API}/orgs/acme/audit",
        {"action": "token.reset"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(item["id"], item["action"]) for item in items] == [
        (former_events[0].pk, "token.reset")
    ]
    assert Token.objects.filter(name="old one").exists()
