"""A real PostgreSQL stopped mid-suite: the API answers 503 JSON with Retry-After, pages the
503 page; once the server is back, requests work again without restarting the app.

Runs when the tests use PostgreSQL and these name the cluster (as .ci/run sets them):
TOKENDESK_TEST_PG_CTL (pg_ctl's path), TOKENDESK_TEST_PGDATA (its data directory) and,
optionally, TOKENDESK_TEST_PG_AS (a prefix to run pg_ctl as the cluster's owner, e.g.
`runuser -u postgres --` when the tests run as root)."""

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from werkzeug.test import Client as WsgiClient

from config.wsgi import application
from tests.factories import make_personal_token, make_user

PG_CTL = os.environ.get("TOKENDESK_TEST_PG_CTL", "")
PGDATA = os.environ.get("TOKENDESK_TEST_PGDATA", "")
RUN_AS = shlex.split(os.environ.get("TOKENDESK_TEST_PG_AS", ""))

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql" or not (PG_CTL and PGDATA),
    reason="stops a real PostgreSQL: needs DATABASE_URL=postgres://… and "
    "TOKENDESK_TEST_PG_CTL and TOKENDESK_TEST_PGDATA naming its cluster (.ci/run sets them)",
)


def _pg_ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    # No pipes: a started server inherits pg_ctl's output and would hold them open.
    return subprocess.run(  # noqa: S603 - the command comes from the test environment
        [*RUN_AS, PG_CTL, "-D", PGDATA, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=check,
    )


def _server_options() -> str:
    """The options the server was started with (port, socket directory, listen address),
    from postmaster.opts, so it comes back exactly as it was."""
    opts = Path(PGDATA, "postmaster.opts")
    try:
        text = opts.read_text()
    except PermissionError:
        text = subprocess.run(  # noqa: S603
            [*RUN_AS, "cat", str(opts)], capture_output=True, text=True, check=True
        ).stdout
    words = shlex.split(text)[1:]  # drop the postgres binary
    options, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word == "-D":
            skip = True
        else:
            options.append(word)
    return shlex.join(options)


def _running() -> bool:
    return _pg_ctl("status", check=False).returncode == 0


@pytest.fixture
def stopped_server(transactional_db):
    options = _server_options()
    _pg_ctl("-m", "fast", "-w", "stop")
    try:
        yield lambda: _pg_ctl("-w", "-o", options, "start")
    finally:
        # Never leave the cluster stopped for the rest of the suite.
        if not _running():
            _pg_ctl("-w", "-o", options, "start")
        connection.close()


def test_an_outage_answers_503_and_the_app_recovers_when_the_server_returns(
    client, transactional_db, request
):
    user = make_user("outage@example.test")
    token = make_personal_token(user).plaintext
    client.force_login(user)
    wsgi = WsgiClient(application)
    wsgi.set_cookie("sessionid", client.cookies["sessionid"].value, domain="testserver")
    auth = {"Authorization": f"Bearer {token}"}

    def get(path: str, **kwargs):
        return wsgi.get(path, base_url="http://testserver", **kwargs)

    assert get("/api/v1/whoami", headers=auth).status_code == 200
    start_again = request.getfixturevalue("stopped_server")

    api = get("/api/v1/whoami", headers=auth)
    assert api.status_code == 503
    assert api.json == {"error": "service_unavailable", "detail": api.json["detail"]}
    assert int(api.headers["Retry-After"]) > 0
    page = get("/")
    assert page.status_code == 503
    assert "Tokendesk is unavailable" in page.text
    assert int(page.headers["Retry-After"]) > 0

    start_again()
    # The same process, no restart: Django's health check replaces the dead connection.
    assert get("/api/v1/whoami", headers=auth).status_code == 200
    assert get("/").status_code == 200
