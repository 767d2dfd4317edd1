"""GET /api/v1/tokens/{id}/usage: the same visibility as the token itself."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import make_ci_token, make_org, make_personal_token, make_project, make_user
from tokens import usage

CLI = "tokendesk-cli/0.2.1"


def call(client, method, path, token, address="203.0.113.5", **extra):
    headers = {"Authorization": f"Bearer {token}", "User-Agent": CLI}
    return getattr(client, method)(
        path, headers=headers, REMOTE_ADDR=address, content_type="application/json", **extra
    )


@pytest.fixture
def org(db):
    organization = make_org("acme", owner="owner@acme.test")
    make_project(organization, "web")
    return organization


@pytest.fixture
def owner(org):
    return org.memberships.get().user


def test_it_answers_addresses_routes_agents_and_permissions(client, org, owner):
    ci = make_ci_token(org, owner)
    reader = make_personal_token(owner, name="reader", permissions={"tokens:read"})
    call(client, "get", "/api/v1/orgs/acme/projects", ci.plaintext)
    call(
        client,
        "post",
        "/api/v1/orgs/acme/projects/web/deployments",
        ci.plaintext,
        address="198.51.100.7",
        data={"ref": "main"},
    )
    call(client, "get", "/api/v1/tokens", ci.plaintext)  # 403: tokens:read attempted

    response = call(client, "get", f"/api/v1/tokens/{ci.token.pk}/usage", reader.plaintext)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token"] == ci.token.pk
    assert (body["calls"], body["ok"], body["failed"]) == (3, 2, 1)
    assert [a["address"] for a in body["addresses"]] == ["198.51.100.7", "203.0.113.5"] or [
        a["address"] for a in body["addresses"]
    ] == ["203.0.113.5", "198.51.100.7"]
    routes = {(r["method"], r["route"]): (r["ok"], r["failed"]) for r in body["routes"]}
    assert routes == {
        ("GET", "/api/v1/orgs/{org}/projects"): (1, 0),
        ("POST", "/api/v1/orgs/{org}/projects/{project}/deployments"): (1, 0),
        ("GET", "/api/v1/tokens"): (0, 1),
    }
    assert [a["agent"] for a in body["agents"]] == ["tokendesk-cli/0.2"]
    assert [p["project"] for p in body["projects"]] == ["acme/web"]
    permissions = {
        p["permission"]: (p["granted"], p["used"], p["attempted"]) for p in body["permissions"]
    }
    assert permissions == {
        "projects:read": (True, True, False),
        "deployments:read": (True, False, False),  # implied by write, not called
        "deployments:write": (True, True, False),
        "tokens:read": (False, False, True),
    }
    assert body["suggested_permissions"] is None  # used today only
    assert body["window_days"] == 30


def test_it_suggests_the_used_permissions_after_seven_days(client, org, owner):
    ci = make_ci_token(org, owner, role="admin")
    start = timezone.now() - timedelta(days=8)
    with time_machine.travel(start, tick=False):
        call(client, "get", "/api/v1/orgs/acme/projects", ci.plaintext)
    usage.flush()
    call(
        client,
        "post",
        "/api/v1/orgs/acme/projects/web/deployments",
        ci.plaintext,
        data={"ref": "x"},
    )

    body = call(client, "get", f"/api/v1/tokens/{ci.token.pk}/usage", ci.plaintext).json()

    # Counted after it answers, this call's own tokens:read is not in it yet. projects:write
    # stays: its implied read was used (never suggest removing what a seen call needed).
    assert body["suggested_permissions"] == [
        "projects:read",
        "projects:write",
        "deployments:write",
    ]
    again = call(client, "get", f"/api/v1/tokens/{ci.token.pk}/usage", ci.plaintext).json()
    assert "tokens:write" in again["suggested_permissions"]


@pytest.mark.parametrize(
    "caller",
    ["other_users_token", "other_orgs_ci_token"],
)
def test_a_token_outside_the_callers_reach_is_a_404(client, org, owner, caller):
    mine = make_personal_token(owner, name="mine")
    stranger = make_user("stranger@x.test")
    callers = {
        "other_users_token": make_personal_token(stranger, permissions={"tokens:read"}),
        "other_orgs_ci_token": make_ci_token(
            make_org("beta", owner="boss@beta.test"),
            make_user("boss2@beta.test"),
            role="admin",
        ),
    }
    response = call(
        client, "get", f"/api/v1/tokens/{mine.token.pk}/usage", callers[caller].plaintext
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_it_needs_tokens_read(client, org, owner):
    ci = make_ci_token(org, owner)
    response = call(client, "get", f"/api/v1/tokens/{ci.token.pk}/usage", ci.plaintext)
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


def test_it_is_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/tokens/{token_id}/usage"]["get"]
    assert operation["operationId"] == "token_usage"
    assert "200" in operation["responses"] and "404" in operation["responses"]
