"""The CLI warns on stderr when the token expires within 14 days; the exit status stays."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.fake_api import run, token_object


def expires_in(delta: timedelta) -> dict:
    moment = datetime.now(UTC) + delta
    return {"Tokendesk-Token-Expires": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}


def whoami_with(api, headers):
    api.on("GET", "/api/v1/whoami", (200, {"token": token_object(), "user": None}, headers))


def test_it_warns_at_13_days(api, capsys):
    whoami_with(api, expires_in(timedelta(days=13, hours=1)))

    code, out, err = run(capsys, "whoami")

    assert code == 0
    (line,) = err.splitlines()
    assert line.startswith("tokendesk: warning: this token expires ")
    assert "(in 13 days)" in line and "create a new one" in line
    assert "GitHub Actions" in out


def test_it_stays_quiet_at_15_days(api, capsys):
    whoami_with(api, expires_in(timedelta(days=15)))

    code, _, err = run(capsys, "whoami")

    assert code == 0 and err == ""


def test_it_stays_quiet_without_the_header(api, capsys):
    whoami_with(api, {})

    assert run(capsys, "whoami")[2] == ""


def test_hours_are_counted_on_the_last_day(api, capsys):
    whoami_with(api, expires_in(timedelta(hours=5, minutes=30)))

    _, _, err = run(capsys, "whoami")

    assert "(in 5 hours)" in err


def test_the_warning_does_not_change_a_failure(api, capsys):
    body = {"error": "insufficient_scope", "detail": "This token lacks deployments:write."}
    api.on(
        "POST",
        "/api/v1/orgs/acme/projects/web/deployments",
        (403, body, expires_in(timedelta(days=2))),
    )

    code, _, err = run(capsys, "deploy", "acme/web", "--ref", "main")

    assert code == 1
    warning, error = err.splitlines()
    assert "expires" in warning and "insufficient_scope" in error


def test_it_warns_once_across_pages(api, capsys):
    headers = expires_in(timedelta(days=3))
    api.on(
        "GET",
        "/api/v1/tokens",
        (200, {"items": [token_object(id=1)], "count": 2}, headers),
        (200, {"items": [token_object(id=2)], "count": 2}, headers),
    )

    code, _, err = run(capsys, "token", "list")

    assert code == 0 and len(api.requests) == 2
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("value", ["soon", "2031-13-40T00:00:00Z", ""])
def test_a_malformed_header_is_ignored(api, capsys, value):
    whoami_with(api, {"Tokendesk-Token-Expires": value})

    code, _, err = run(capsys, "whoami")

    assert code == 0 and err == ""
