"""The `tokendesk` CLI against a fake API server, so no database or real API is needed."""

import json

import pytest

from tests.cli.fake_api import (
    CREATED_SECRET,
    LEGACY_SECRET,
    SECRET,
    assert_no_secret,
    run,
    token_object,
)

# --- requests and output -------------------------------------------------------------


def test_whoami_sends_the_token_and_prints_it(api, capsys):
    answer = {"token": token_object(kind="personal", org=None), "user": {"email": "a@acme.test"}}
    api.on("GET", "/api/v1/whoami", (200, answer, {}))

    code, out, err = run(capsys, "whoami")

    assert code == 0, err
    (request,) = api.requests
    assert (request.method, request.path, request.query, request.body) == (
        "GET",
        "/api/v1/whoami",
        {},
        None,
    )
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("tokendesk-cli/")
    assert "GitHub Actions" in out and "a@acme.test" in out and "personal" in out
    assert_no_secret(out, err)


def test_whoami_json_prints_the_answer(api, capsys):
    answer = {"token": token_object(), "user": None}
    api.on("GET", "/api/v1/whoami", (200, answer, {}))

    code, out, _ = run(capsys, "whoami", "--json")

    assert code == 0
    assert json.loads(out) == answer


def test_token_create_sends_every_option_and_prints_json(api, capsys):
    created = {**token_object(description="deploys"), "token": CREATED_SECRET}
    api.on("POST", "/api/v1/tokens", (201, created, {"Cache-Control": "no-store"}))

    code, out, _ = run(
        capsys,
        *("token", "create", "GitHub Actions", "--org", "acme"),
        *("--permissions", "projects:read, deployments:write", "--expires", "90"),
        *("--description", "deploys", "--json"),
    )

    assert code == 0
    (request,) = api.requests
    assert (request.method, request.path) == ("POST", "/api/v1/tokens")
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "name": "GitHub Actions",
        "org": "acme",
        "permissions": ["projects:read", "deployments:write"],
        "expires_in_days": 90,
        "description": "deploys",
    }
    assert json.loads(out) == created


def test_token_create_prints_the_plaintext_alone_on_stdout(api, capsys):
    token = token_object(kind="deployment", project="acme/web")
    created = {**token, "token": CREATED_SECRET}
    api.on("POST", "/api/v1/tokens", (201, created, {}))

    code, out, err = run(
        capsys, "token", "create", "web deploys", "--project", "acme/web", "--role", "ci"
    )

    assert code == 0
    assert api.requests[0].body == {"name": "web deploys", "project": "acme/web", "role": "ci"}
    assert out == CREATED_SECRET + "\n"
    assert "Save this token now: it will not be shown again." in err
    assert "acme/web" in err and "tdk_ci_Nw5r…h2J3" in err
    assert_no_secret(out, err)


def test_token_create_sends_only_the_name_by_default(api, capsys):
    api.on("POST", "/api/v1/tokens", (201, {**token_object(), "token": CREATED_SECRET}, {}))

    assert run(capsys, "token", "create", "laptop")[0] == 0
    assert api.requests[0].body == {"name": "laptop"}


def test_token_list_sends_only_the_given_filters(api, capsys):
    api.on("GET", "/api/v1/tokens", (200, {"items": [], "count": 0}, {}))

    assert run(capsys, "token", "list", "--type", "deployment", "--project", "acme/web")[0] == 0
    assert run(capsys, "token", "list")[0] == 0

    filtered, unfiltered = api.requests
    assert filtered.method == "GET" and filtered.path == "/api/v1/tokens"
    assert filtered.query == {
        "type": "deployment",
        "project": "acme/web",
        "active": "true",
        "limit": "100",
        "offset": "0",
    }
    assert unfiltered.query == {"active": "true", "limit": "100", "offset": "0"}


def test_token_list_prints_a_table(api, capsys):
    items = [
        token_object(
            id=1, kind="personal", org=None, name="laptop", last_used_at="2025-03-04T05:06:07Z"
        ),
        token_object(id=2, expires_at="2001-01-01T00:00:00Z"),
        token_object(
            id=3, kind="deployment", project="acme/web", revoked_at="2025-01-01T00:00:00Z"
        ),
        token_object(id=4, kind="server", role=None, expires_at="2999-01-01T00:00:00+00:00"),
    ]
    api.on("GET", "/api/v1/tokens", (200, {"items": items, "count": 4}, {}))

    code, out, _ = run(capsys, "token", "list", "--all")

    assert code == 0
    assert api.requests[0].query == {"limit": "100", "offset": "0"}
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "NAME", "PREVIEW", "SCOPE", "LAST", "USED", "EXPIRES", "STATUS"]
    assert len(rows) == 4
    assert "personal" in rows[0] and "2025-03-04" in rows[0] and rows[0].endswith("active")
    assert rows[1].endswith("expired")
    assert "acme/web" in rows[2] and rows[2].endswith("revoked")
    assert "2999-01-01" in rows[3] and rows[3].endswith("active")


def test_token_list_follows_pagination(api, capsys):
    items = [token_object(id=number, name=f"token {number}") for number in range(250)]
    api.on(
        "GET",
        "/api/v1/tokens",
        (200, {"items": items[:100], "count": 250}, {}),
        (200, {"items": items[100:200], "count": 250}, {}),
        (200, {"items": items[200:], "count": 250}, {}),
    )

    code, out, _ = run(capsys, "token", "list", "--org", "acme", "--json")

    assert code == 0
    assert json.loads(out) == items
    assert [request.query for request in api.requests] == [
        {"org": "acme", "active": "true", "limit": "100", "offset": "0"},
        {"org": "acme", "active": "true", "limit": "100", "offset": "100"},
        {"org": "acme", "active": "true", "limit": "100", "offset": "200"},
    ]


@pytest.mark.parametrize("verb", ["revoke", "delete"])  # delete: the former, unlisted name
def test_token_revoke_quotes_the_preview_prefix(api, capsys, verb):
    api.on("DELETE", "/api/v1/tokens/tdk_ci_Nw5r%E2%80%A6", (204, None, {}))

    code, out, _ = run(capsys, "token", verb, "tdk_ci_Nw5r…", "--yes")

    assert code == 0
    (request,) = api.requests
    assert (request.method, request.path, request.body) == (
        "DELETE",
        "/api/v1/tokens/tdk_ci_Nw5r%E2%80%A6",
        None,
    )
    assert out == "Revoked tdk_ci_Nw5r….\n"


def test_deploy_posts_ref_and_default_environment(api, capsys):
    deployment = {"id": 42, "project": "acme/web", "ref": "v1.2.3", "environment": "production"}
    api.on("POST", "/api/v1/orgs/acme/projects/web/deployments", (201, deployment, {}))

    code, out, _ = run(capsys, "deploy", "acme/web", "--ref", "v1.2.3")

    assert code == 0
    (request,) = api.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {"ref": "v1.2.3", "environment": "production"}
    assert out == "Deployed acme/web@v1.2.3 to production (deployment #42).\n"


def test_deploy_json_with_an_environment(api, capsys):
    deployment = {"id": 43, "ref": "main", "environment": "staging", "created_at": None}
    api.on("POST", "/api/v1/orgs/acme/projects/api/deployments", (201, deployment, {}))

    code, out, _ = run(
        capsys, "deploy", "acme/api", "--ref", "main", "--environment", "staging", "--json"
    )

    assert code == 0
    assert api.requests[0].body == {"ref": "main", "environment": "staging"}
    assert json.loads(out) == deployment


# --- credentials ---------------------------------------------------------------------


def use_legacy_pair(monkeypatch):
    monkeypatch.delenv("TOKENDESK_TOKEN")
    monkeypatch.setenv("TOKENDESK_SERVER_TOKEN", LEGACY_SECRET)
    monkeypatch.setenv("TOKENDESK_USER_EMAIL", "ops@acme.test")


def test_the_legacy_pair_still_works_with_one_deprecation_line(api, capsys, monkeypatch):
    use_legacy_pair(monkeypatch)
    api.on(
        "POST",
        "/api/v1/orgs/acme/projects/web/deployments",
        (201, {"id": 1, "ref": "a", "environment": "production"}, {}),
    )

    code, out, err = run(capsys, "deploy", "acme/web", "--ref", "a")

    assert code == 0
    assert api.requests[0].headers["authorization"] == f"Bearer {LEGACY_SECRET}"
    (line,) = err.splitlines()
    assert "going away" in line and "TOKENDESK_TOKEN" in line
    assert line.endswith(f"{api.url}/docs/ci-tokens/#migrating-deployments-to-ci-tokens")
    assert_no_secret(out, err)


def test_the_legacy_pair_stays_one_line_when_the_server_also_deprecates(api, capsys, monkeypatch):
    use_legacy_pair(monkeypatch)
    headers = {"Deprecation": "true", "Warning": '299 - "Server tokens are deprecated."'}
    api.on(
        "GET",
        "/api/v1/whoami",
        (200, {"token": token_object(kind="server"), "user": None}, headers),
    )

    code, _, err = run(capsys, "whoami")

    assert code == 0
    assert len(err.splitlines()) == 1


def test_token_wins_over_the_legacy_pair(api, capsys, monkeypatch):
    monkeypatch.setenv("TOKENDESK_SERVER_TOKEN", LEGACY_SECRET)
    monkeypatch.setenv("TOKENDESK_USER_EMAIL", "ops@acme.test")
    api.on("GET", "/api/v1/whoami", (200, {"token": token_object(), "user": None}, {}))

    code, _, err = run(capsys, "whoami")

    assert code == 0 and err == ""
    assert api.requests[0].headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.parametrize("legacy_env", [{}, {"TOKENDESK_SERVER_TOKEN": LEGACY_SECRET}])
def test_no_token_is_a_usage_error(api, capsys, monkeypatch, legacy_env):
    monkeypatch.delenv("TOKENDESK_TOKEN")
    for name, value in legacy_env.items():
        monkeypatch.setenv(name, value)

    code, out, err = run(capsys, "whoami")

    assert code == 2
    assert "TOKENDESK_TOKEN" in err
    assert api.requests == []
    assert_no_secret(out, err)


def test_a_url_that_is_not_http_is_a_usage_error(api, capsys, monkeypatch):
    monkeypatch.setenv("TOKENDESK_URL", "file:///etc/passwd")

    code, _, err = run(capsys, "whoami")

    assert code == 2 and "TOKENDESK_URL" in err


# --- errors --------------------------------------------------------------------------


def test_an_api_error_prints_its_detail_and_exits_1(api, capsys):
    body = {"error": "insufficient_scope", "detail": "This token lacks tokens:write."}
    headers = {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}
    api.on("POST", "/api/v1/tokens", (403, body, headers))

    code, out, err = run(capsys, "token", "create", "x", "--org", "acme")

    assert code == 1
    assert out == ""
    assert err == "tokendesk: This token lacks tokens:write. (insufficient_scope, HTTP 403)\n"
    assert_no_secret(out, err)


def test_a_server_that_echoes_the_token_is_redacted(api, capsys):
    body = {"error": "invalid_token", "detail": f"Token {SECRET} is unknown."}
    api.on("GET", "/api/v1/whoami", (401, body, {"Warning": f'299 - "bad {SECRET}"'}))

    code, out, err = run(capsys, "whoami")

    assert code == 1
    assert "(invalid_token, HTTP 401)" in err
    assert_no_secret(out, err)


def test_an_error_without_json_still_exits_1(api, capsys):
    api.on("GET", "/api/v1/whoami", (502, b"<html>Bad gateway</html>", {}))

    code, _, err = run(capsys, "whoami")

    assert code == 1 and "HTTP 502" in err


def test_a_redirect_is_not_followed(api, capsys):
    api.on("GET", "/api/v1/whoami", (302, None, {"Location": "http://elsewhere.invalid/"}))

    code, _, err = run(capsys, "whoami")

    assert code == 1
    assert "elsewhere.invalid" in err and "HTTP 302" in err
    assert len(api.requests) == 1


# --- usage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "create", "x", "--org", "acme", "--project", "acme/web"],
        ["token", "create", "x", "--permissions", "orgs:read", "--role", "ci"],
        ["token", "create", "x", "--expires", "soon"],
        ["token", "create", "x", "--permissions", ","],
        ["token", "create", "x", "--project", "acme"],
        ["token", "list", "--type", "everything"],
        ["token", "list", "--project", "acme/web/extra"],
        ["deploy", "acme", "--ref", "main"],
        ["deploy", "acme/", "--ref", "main"],
        ["deploy", "/web", "--ref", "main"],
        ["deploy", "acme/web"],
        ["token"],
        [],
    ],
)
def test_usage_errors_exit_2_without_a_request(api, capsys, argv):
    code, _, err = run(capsys, *argv)

    assert code == 2
    assert "usage:" in err
    assert api.requests == []


# --- warnings ------------------------------------------------------------------------


def test_a_warning_header_is_echoed_once_across_pages(api, capsys):
    headers = {"Deprecation": "true", "Warning": '299 - "Server tokens are going away."'}
    api.on(
        "GET",
        "/api/v1/tokens",
        (200, {"items": [token_object(id=1)], "count": 2}, headers),
        (200, {"items": [token_object(id=2)], "count": 2}, headers),
    )

    code, _, err = run(capsys, "token", "list")

    assert code == 0
    assert err == "tokendesk: warning: Server tokens are going away.\n"


def test_a_bare_deprecation_header_is_echoed(api, capsys):
    api.on(
        "GET",
        "/api/v1/whoami",
        (200, {"token": token_object(), "user": None}, {"Deprecation": "true"}),
    )

    code, _, err = run(capsys, "whoami")

    assert code == 0
    assert "deprecated" in err and len(err.splitlines()) == 1
