"""A fake Tokendesk API on a loopback port: records requests, answers canned responses."""

import json
import threading
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tokendesk_cli import cli

SECRET = "tdk_pat_Zx8qL2mN4pR6tV8wY0aC2eG4iK6mO8q1A2b3C4"
LEGACY_SECRET = "tdk_srv_Lg9yH3kP5sU7wX9zB1dF3hJ5lN7pR9t5D6e7F8"
CREATED_SECRET = "tdk_ci_Nw5rT7vX9zB1dF3hJ5lN7pR9tV1xZ3b0G1h2J3"


def token_object(**overrides):
    token = {
        "id": 7,
        "name": "GitHub Actions",
        "description": "",
        "kind": "ci",
        "preview": "tdk_ci_Nw5r…h2J3",
        "org": "acme",
        "project": None,
        "role": "ci",
        "permissions": ["projects:read", "deployments:write"],
        "created_at": "2025-01-02T03:04:05Z",
        "expires_at": None,
        "last_used_at": None,
        "revoked_at": None,
    }
    token.update(overrides)
    return token


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: object


@dataclass
class FakeAPI:
    """Records every request and answers from queues of canned (status, body, headers)."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    routes: dict = field(default_factory=dict)

    def on(self, method, path, *responses):
        self.routes[(method, path)] = list(responses)

    def answer(self, method, path):
        queue = self.routes.get((method, path))
        if not queue:
            return 404, {"error": "not_found", "detail": "No such route."}, {}
        return queue.pop(0) if len(queue) > 1 else queue[0]


def make_handler(api: FakeAPI):
    class Handler(BaseHTTPRequestHandler):
        def handle_any(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            api.requests.append(
                Recorded(
                    method=self.command,
                    path=url.path,
                    query=dict(urllib.parse.parse_qsl(url.query)),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=json.loads(raw) if raw else None,
                )
            )
            status, body, headers = api.answer(self.command, url.path)
            payload = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body)
            payload = payload.encode() if isinstance(payload, str) else payload
            self.send_response(status)
            content_type = "text/html" if payload.startswith(b"<") else "application/json"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = handle_any

        def log_message(self, format, *args):
            pass

    return Handler


@contextmanager
def serving(handler):
    """A loopback HTTP server with `handler`, yielding its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval keeps shutdown() from adding half a second to every test.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def api(monkeypatch):
    fake = FakeAPI()
    with serving(make_handler(fake)) as port:
        fake.url = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("TOKENDESK_URL", fake.url)
        monkeypatch.setenv("TOKENDESK_TOKEN", SECRET)
        monkeypatch.delenv("TOKENDESK_SERVER_TOKEN", raising=False)
        monkeypatch.delenv("TOKENDESK_USER_EMAIL", raising=False)
        yield fake


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_secret(*texts):
    for text in texts:
        assert SECRET not in text
        assert LEGACY_SECRET not in text
