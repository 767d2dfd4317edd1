"""The conventions people know from gh, npm and vercel."""

import json

import pytest
from tokendesk_cli import __version__, cli

from tests.cli.fake_api import SECRET, run, token_object


def test_version_prints_the_version(capsys):
    code, out, _ = run(capsys, "--version")

    assert code == 0
    assert out == f"tokendesk {__version__}\n"


@pytest.mark.parametrize(("argv", "lists"), [([], "whoami"), (["token"], "revoke")])
def test_a_bare_command_prints_its_help_and_exits_2(api, capsys, argv, lists):
    code, out, err = run(capsys, *argv)

    assert code == 2
    assert out == ""
    assert "usage: tokendesk" in err and lists in err
    assert api.requests == []


def test_a_missing_url_says_to_set_it(api, capsys, monkeypatch):
    monkeypatch.delenv("TOKENDESK_URL")

    code, _, err = run(capsys, "whoami")

    assert code == 2
    assert err.startswith("tokendesk: set TOKENDESK_URL to your Tokendesk server")
    assert api.requests == []


def test_the_url_option_stands_in_for_the_variable(api, capsys, monkeypatch):
    monkeypatch.delenv("TOKENDESK_URL")
    api.on("GET", "/api/v1/whoami", (200, {"token": token_object(), "user": None}, {}))

    code, _, err = run(capsys, "--url", api.url, "whoami")

    assert code == 0, err
    assert len(api.requests) == 1


@pytest.mark.parametrize("suffix", ["", "/", "/api/v1", "/api/v1/"])
def test_the_url_works_with_or_without_the_api_path(api, capsys, monkeypatch, suffix):
    monkeypatch.setenv("TOKENDESK_URL", api.url + suffix)
    api.on("GET", "/api/v1/whoami", (200, {"token": token_object(), "user": None}, {}))

    code, _, err = run(capsys, "whoami")

    assert code == 0, err
    assert [request.path for request in api.requests] == ["/api/v1/whoami"]


# --- token list ----------------------------------------------------------------------


def test_token_list_shows_active_tokens_unless_all_is_given(api, capsys):
    # A server that ignores `active` still gets its answer filtered.
    items = [
        token_object(id=1, name="in use"),
        token_object(id=2, name="gone", revoked_at="2025-01-01T00:00:00Z"),
        token_object(id=3, name="stale", expires_at="2001-01-01T00:00:00Z"),
    ]
    api.on("GET", "/api/v1/tokens", (200, {"items": items, "count": 3}, {}))

    _, active, _ = run(capsys, "token", "list")
    _, everything, _ = run(capsys, "token", "list", "--all")

    assert api.requests[0].query["active"] == "true"
    assert "active" not in api.requests[1].query
    assert "in use" in active and "gone" not in active and "stale" not in active
    assert all(name in everything for name in ("in use", "gone", "stale"))


def test_token_list_fits_100_columns(api, capsys):
    items = [
        token_object(
            id=123456,
            name="A very long token name that somebody typed into the dialog " * 2,
            kind="deployment",
            preview="tdk_dep_Abcd…wxyz",
            org="an-organization-with-a-long-slug",
            project="an-organization-with-a-long-slug/and-a-project-with-one-too",
            last_used_at="2025-03-04T05:06:07.123456Z",
            expires_at="2999-12-31T23:59:59Z",
        ),
        token_object(id=2, name="short"),
    ]
    api.on("GET", "/api/v1/tokens", (200, {"items": items, "count": 2}, {}))

    code, out, _ = run(capsys, "token", "list")

    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "tdk_dep_Abcd…wxyz" in lines[1] and "2025-03-04" in lines[1]
    assert "2999-12-31" in lines[1] and lines[1].endswith("active")
    assert "A very long token" in lines[1] and "an-organization" in lines[1]


def test_token_list_json_is_complete(api, capsys):
    items = [token_object(id=1, description="every field", role="custom")]
    api.on("GET", "/api/v1/tokens", (200, {"items": items, "count": 1}, {}))

    code, out, _ = run(capsys, "token", "list", "--json")

    assert code == 0
    assert json.loads(out) == items


# --- token revoke --------------------------------------------------------------------


class FakeTerminal:
    def __init__(self, answer):
        self.answer = answer

    def isatty(self):
        return True

    def readline(self):
        return self.answer


def test_revoke_without_yes_is_refused_when_not_on_a_terminal(api, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115

    code, _, err = run(capsys, "token", "revoke", "7")

    assert code == 2
    assert "--yes" in err
    assert api.requests == []


@pytest.mark.parametrize(("answer", "revoked"), [("y\n", True), ("\n", False), ("no\n", False)])
def test_revoke_asks_on_a_terminal(api, capsys, monkeypatch, answer, revoked):
    monkeypatch.setattr("sys.stdin", FakeTerminal(answer))
    api.on("DELETE", "/api/v1/tokens/7", (204, None, {}))

    code, out, err = run(capsys, "token", "revoke", "7")

    assert "Revoke token 7 on" in err and "[y/N]" in err
    assert (code, len(api.requests), out) == ((0, 1, "Revoked 7.\n") if revoked else (1, 0, ""))


@pytest.mark.parametrize(
    "pasted",
    [
        SECRET,
        SECRET[:-1] + ("A" if SECRET[-1] != "A" else "B"),  # a typo: the checksum fails
        SECRET[:30],  # cut short, still far more than a preview prefix
        f"Bearer {SECRET}",
    ],
)
def test_a_whole_token_given_as_an_id_is_refused_before_any_request(api, capsys, pasted):
    code, out, err = run(capsys, "token", "revoke", pasted, "--yes")

    assert code == 2
    assert "whole token" in err and "not sent" in err
    assert SECRET[8:] not in out + err
    assert api.requests == []


@pytest.mark.parametrize("prefix", ["tdk_ci_Nw5r", "tdk_ci_Nw5r…", "tdk_ci_Nw5r…h2J3", "42"])
def test_ids_and_preview_prefixes_are_sent(api, capsys, prefix):
    api.on("DELETE", "/api/v1/tokens/" + cli.quote(prefix), (204, None, {}))

    code, _, err = run(capsys, "token", "revoke", prefix, "--yes")

    assert code == 0, err
