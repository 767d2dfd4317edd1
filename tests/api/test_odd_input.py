"""Odd input — NUL characters (which PostgreSQL refuses), non-ASCII digits, ids beyond 64
bits — is turned away at the boundary with a 4xx,
on SQLite and PostgreSQL alike, instead of reaching the database as a 500."""

import pytest

from tests.api.world import build_world


@pytest.fixture
def auth(db):
    return {"Authorization": f"Bearer {build_world().callers['pat_owner']}"}


@pytest.mark.parametrize(
    "path",
    [
        "/orgs/acme/audit?actor=%00",
        "/tokens?org=%00",
        "/tokens?project=a%00/b",
        "/orgs/a%00/projects",
        "/orgs/acme/projects/w%00/deployments",
    ],
)
def test_in_a_query_or_path(client, auth, path):
    assert client.get(f"/api/v1{path}", headers=auth).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\x00b"},
        {"name": "x", "org": "\x00"},
        {"name": "x", "description": "\x00"},
        {"name": "x", "permissions": ["projects:read\x00"]},
    ],
)
def test_in_a_token_body(client, auth, body):
    response = client.post("/api/v1/tokens", body, content_type="application/json", headers=auth)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_in_a_deployment_ref(client, auth):
    response = client.post(
        "/api/v1/orgs/acme/projects/web/deployments",
        {"ref": "a\x00"},
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 422


def test_in_a_token_prefix(client, auth):
    assert client.delete("/api/v1/tokens/tdk_pat_ab%00cd", headers=auth).status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("delete", "/tokens/%C2%B3", 422),  # "³" is a digit to str.isdigit, not to int()
        ("delete", "/tokens/99999999999999999999999", 404),
        ("post", "/tokens/99999999999999999999999/reset", 422),
        ("get", "/orgs/acme/audit?before=99999999999999999999999", 422),
    ],
)
def test_odd_ids_are_refused_cleanly(client, auth, method, path, expected):
    assert getattr(client, method)(f"/api/v1{path}", headers=auth).status_code == expected


@pytest.mark.parametrize(
    "path",
    [
        "/settings/tokens/99999999999999999999999/revoke/",
        "/settings/tokens/activity/?before=%C2%B3",
        "/orgs/acme/audit/?before=99999999999999999999999",
    ],
)
def test_odd_ids_in_pages_are_not_server_errors(signed_in, db, path):
    assert signed_in.get(path).status_code in (200, 404, 422)
