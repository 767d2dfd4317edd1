"""What a pipeline meets when something is wrong between it and the server: one line on
stderr, exit 1, never a traceback, never the token."""

import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler

import pytest

from tests.cli.fake_api import SECRET, assert_no_secret, run, serving

PROXY_LOGIN_PAGE = b"<!doctype html><html><body><form>Sign in to the proxy</form></body></html>"


def assert_one_line(err):
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err


class ProxyLoginPage(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PROXY_LOGIN_PAGE)))
        self.end_headers()
        self.wfile.write(PROXY_LOGIN_PAGE)

    do_POST = do_GET

    def log_message(self, format, *args):
        pass


class HangsUp(BaseHTTPRequestHandler):
    def do_GET(self):
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format, *args):
        pass


def a_closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server(api, capsys, monkeypatch):
    monkeypatch.setenv("TOKENDESK_URL", f"http://127.0.0.1:{a_closed_port()}")

    code, out, err = run(capsys, "whoami")

    assert code == 1
    assert err.startswith("tokendesk: cannot reach http://127.0.0.1:")
    assert_one_line(err)
    assert_no_secret(out, err)


def test_a_tls_error(api, capsys, monkeypatch):
    # An https URL to a plain-HTTP port: the TLS handshake fails.
    monkeypatch.setenv("TOKENDESK_URL", api.url.replace("http://", "https://"))

    code, out, err = run(capsys, "whoami")

    assert code == 1
    assert "SSL" in err or "TLS" in err
    assert_one_line(err)
    assert_no_secret(out, err)


def test_html_instead_of_json(api, capsys, monkeypatch):
    with serving(ProxyLoginPage) as port:
        monkeypatch.setenv("TOKENDESK_URL", f"http://127.0.0.1:{port}")
        code, out, err = run(capsys, "whoami")

    assert code == 1
    assert "HTTP 200 with something other than JSON" in err and "TOKENDESK_URL" in err
    assert_one_line(err)
    assert_no_secret(out, err)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error(api, capsys, status):
    api.on("GET", "/api/v1/whoami", (status, b"<html>Bad gateway</html>", {}))

    code, _, err = run(capsys, "whoami")

    assert code == 1
    assert f"HTTP {status}" in err
    assert_one_line(err)


def test_a_server_error_with_the_api_error_shape(api, capsys):
    body = {"error": "server_misconfigured", "detail": "TOKEN_HASH_SALT is not set."}
    api.on("GET", "/api/v1/whoami", (503, body, {}))

    code, _, err = run(capsys, "whoami")

    assert code == 1
    assert err == "tokendesk: TOKEN_HASH_SALT is not set. (server_misconfigured, HTTP 503)\n"


def test_a_connection_dropped_mid_answer(api, capsys, monkeypatch):
    with serving(HangsUp) as port:
        monkeypatch.setenv("TOKENDESK_URL", f"http://127.0.0.1:{port}")
        code, out, err = run(capsys, "whoami")

    assert code == 1
    assert_one_line(err)
    assert_no_secret(out, err)


def test_json_of_an_unexpected_shape(api, capsys):
    api.on("POST", "/api/v1/orgs/acme/projects/web/deployments", (201, ["not", "a", "dict"], {}))

    code, _, err = run(capsys, "deploy", "acme/web", "--ref", "main")

    assert code == 1
    assert "not what tokendesk" in err
    assert_one_line(err)


@pytest.mark.parametrize(
    "value",
    [
        SECRET[:20] + "\n" + SECRET[20:],
        SECRET + "\nsecond line",
        SECRET[:20] + "\r" + SECRET[20:],
        SECRET + "…",  # pasted from a page that shortened it
    ],
)
def test_a_token_with_a_line_break_inside(api, capsys, monkeypatch, value):
    monkeypatch.setenv("TOKENDESK_TOKEN", value)

    code, out, err = run(capsys, "whoami")

    assert code == 1
    assert "line break" in err
    assert_one_line(err)
    assert_no_secret(out, err)
    assert api.requests == []


def test_a_trailing_newline_is_only_whitespace(api, capsys, monkeypatch):
    # `echo "$TOKEN" > file` and secrets pasted with Enter end in one.
    monkeypatch.setenv("TOKENDESK_TOKEN", SECRET + "\n")
    api.on("GET", "/api/v1/whoami", (200, {"token": {}, "user": None}, {}))

    code, _, err = run(capsys, "whoami")

    assert code == 0, err
    assert api.requests[0].headers["authorization"] == f"Bearer {SECRET}"


def test_the_zipapp_prints_no_traceback_either(tmp_path, served_pyz):
    """The same failure through a real process: what a pipeline log shows."""
    env = {
        "PATH": "/usr/bin:/bin",
        "TOKENDESK_URL": f"http://127.0.0.1:{a_closed_port()}",
        "TOKENDESK_TOKEN": SECRET,
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(served_pyz), "whoami"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert_one_line(result.stderr)
