"""`tokendesk token usage ID [--json]`."""

import json

import pytest

from tests.cli.fake_api import run

USAGE = {
    "token": 7,
    "since": "2025-01-01",
    "first_day": "2025-02-01",
    "window_days": 30,
    "calls": 12,
    "ok": 11,
    "failed": 1,
    "addresses": [
        {
            "address": "203.0.113.5",
            "calls": 12,
            "first_seen": "2025-02-01T10:00:00Z",
            "last_seen": "2025-03-01T11:30:00Z",
        }
    ],
    "routes": [
        {
            "method": "POST",
            "route": "/api/v1/orgs/{org}/projects/{project}/deployments",
            "calls": 11,
            "ok": 11,
            "failed": 0,
        },
        {"method": "GET", "route": "/api/v1/tokens", "calls": 1, "ok": 0, "failed": 1},
    ],
    "agents": [
        {
            "agent": "tokendesk-cli/0.2",
            "calls": 12,
            "first_seen": "2025-02-01T10:00:00Z",
            "last_seen": "2025-03-01T11:30:00Z",
        }
    ],
    "projects": [],
    "permissions": [
        {"permission": "projects:read", "granted": True, "used": False, "attempted": False},
        {"permission": "deployments:write", "granted": True, "used": True, "attempted": False},
        {"permission": "tokens:read", "granted": False, "used": False, "attempted": True},
    ],
    "suggested_permissions": ["deployments:write"],
}


def test_usage_prints_addresses_routes_agents_and_permissions(api, capsys):
    api.on("GET", "/api/v1/tokens/7/usage", (200, USAGE, {}))

    code, out, err = run(capsys, "token", "usage", "7")

    assert code == 0, err
    assert "Calls in the last 30 days: 12 (11 ok, 1 failed)" in out
    assert "/api/v1/orgs/{org}/projects/{project}/deployments" in out
    assert "203.0.113.5" in out and "2025-03-01 11:30 UTC" in out
    assert "tokendesk-cli/0.2" in out
    assert "tokens:read" in out and "refused" in out
    assert "narrowing to deployments:write" in out


def test_usage_json_prints_the_answer(api, capsys):
    api.on("GET", "/api/v1/tokens/7/usage", (200, USAGE, {}))
    code, out, _ = run(capsys, "token", "usage", "7", "--json")
    assert code == 0 and json.loads(out) == USAGE


def test_an_unknown_token_is_an_api_error(api, capsys):
    body = {"error": "not_found", "detail": "No such object, or not visible to this token."}
    api.on("GET", "/api/v1/tokens/9/usage", (404, body, {}))
    code, _, err = run(capsys, "token", "usage", "9")
    assert code == 1 and "not visible" in err


@pytest.mark.parametrize("argv", [(), ("tdk_ci_x",), ("7x",)])
def test_bad_arguments_are_a_usage_error_without_a_request(api, capsys, argv):
    code, _, err = run(capsys, "token", "usage", *argv)
    assert code == 2 and "usage" in err
    assert not api.requests
