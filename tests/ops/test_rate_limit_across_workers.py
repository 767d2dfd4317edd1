"""The leak-report rate limit holds across gunicorn workers with no CACHE_URL: the default
cache is the database, which every worker shares (a per-process memory cache would give each
worker its own count). A real gunicorn with 2 sync workers, production settings, against the
test database."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection

from tests.conftest import TEST_SALT
from tokens.api.routes import LEAK_REPORTS_PER_WINDOW

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60
EXTRA_REQUESTS = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    """The test database as a DATABASE_URL the gunicorn workers can open."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    user = quote(database["USER"] or "", safe="")
    password = f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
    host = database["HOST"] or "localhost"
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{database['NAME']}"


def _production_environment() -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"CACHE_URL", "TRUSTED_PROXIES"} and not name.startswith("DJANGO_")
    }
    environment.update(
        DEBUG="0",
        SECRET_KEY="tests-only-secret-key-for-the-gunicorn-workers-0123456789abcdef",
        TOKEN_HASH_SALT=TEST_SALT,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=_database_url(),
        LOG_LEVEL="ERROR",
    )
    return environment


def _post(url: str) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback http only)
        url,
        data=json.dumps({"tokens": ["not-a-token"]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_until_serving(base_url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log.read_text()}", pytrace=False)
        try:
            urllib.request.urlopen(f"{base_url}/api/v1/whoami", timeout=5)  # noqa: S310
        except urllib.error.HTTPError:
            return  # 401: Django answers
        except OSError:
            time.sleep(0.2)
            continue
        return
    pytest.fail(f"gunicorn did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def _pids_in(access_log: Path) -> set[str]:
    return {line.split()[0] for line in access_log.read_text().splitlines() if line.strip()}


def _wait_until_both_workers_answer(base_url: str, access_log: Path) -> None:
    """On a loaded machine the second worker may still be importing Django when the first
    answers: warm both up before counting, so the test measures the shared cache, not boot order."""
    deadline = time.monotonic() + STARTUP_SECONDS
    with ThreadPoolExecutor(max_workers=4) as pool:
        while len(_pids_in(access_log)) < 2:
            if time.monotonic() > deadline:
                pytest.fail(f"only one gunicorn worker answered within {STARTUP_SECONDS} s")
            list(pool.map(lambda _: _whoami(base_url), range(8)))
    access_log.write_text("")


def _whoami(base_url: str) -> None:
    with contextlib.suppress(urllib.error.HTTPError):  # 401 is an answer too
        urllib.request.urlopen(f"{base_url}/api/v1/whoami", timeout=30)  # noqa: S310 (loopback)


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    yield from _gunicorn(tmp_path, {})


@pytest.fixture
def gunicorn_with_pages(transactional_db, tmp_path):
    """The same with DEBUG=1: pages render without a collectstatic manifest."""
    yield from _gunicorn(tmp_path, {"DEBUG": "1", "TOKENDESK_CREATE_DOTENV": "0"})


def _gunicorn(tmp_path, extra_environment: dict[str, str]):
    cache.clear()
    port = _free_port()
    access_log = tmp_path / "access.log"
    error_log = tmp_path / "error.log"
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            str(access_log),
            # Which worker (pid) answered, and with what status.
            "--access-logformat",
            "%(p)s %(s)s",
            "--error-logfile",
            str(error_log),
        ],
        cwd=ROOT,
        env={**_production_environment(), **extra_environment},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base_url, server, error_log)
        _wait_until_both_workers_answer(base_url, access_log)
        yield base_url, access_log
    finally:
        server.terminate()
        server.wait(timeout=30)
        cache.clear()


def test_the_leak_report_limit_holds_across_two_workers(gunicorn):
    base_url, access_log = gunicorn
    total = LEAK_REPORTS_PER_WINDOW + EXTRA_REQUESTS
    # Concurrent connections, so both workers take requests and count at the same time.
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: _post(f"{base_url}/api/v1/token-leaks"), range(total)))

    assert statuses.count(200) == LEAK_REPORTS_PER_WINDOW, statuses
    assert statuses.count(429) == EXTRA_REQUESTS, statuses
    # The next one after the limit is refused too, whichever worker takes it.
    assert _post(f"{base_url}/api/v1/token-leaks") == 429

    served = [line.split() for line in access_log.read_text().splitlines() if line.strip()]
    leak_answers = [(pid, status) for pid, status in served if status in {"200", "429"}]
    per_worker = {pid: [s for p, s in leak_answers if p == pid] for pid, _ in leak_answers}
    print("answers per worker:", {pid: len(answers) for pid, answers in per_worker.items()})
    assert len(per_worker) == 2, "the requests did not reach both workers"


def _sign_in_form(base_url: str) -> tuple[str, str]:
    """A CSRF cookie and the form token of the sign-in page."""
    with urllib.request.urlopen(f"{base_url}/accounts/login/", timeout=30) as response:  # noqa: S310
        cookie = response.headers["Set-Cookie"].split(";")[0]
        page = response.read().decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    return cookie, token


def _sign_in(base_url: str, cookie: str, token: str, password: str) -> str:
    request = urllib.request.Request(  # noqa: S310 (loopback http only)
        f"{base_url}/accounts/login/",
        data=f"csrfmiddlewaretoken={token}&login=alice%40example.test&password={password}".encode(),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return response.read().decode()


def test_the_sign_in_limit_holds_across_two_workers(gunicorn_with_pages, settings):
    """Wrong passwords sent to both workers count together (allauth's limits on the
    database cache): the 11th attempt waits, whichever worker takes it."""
    from tests.factories import make_user

    make_user("alice@example.test")
    base_url, access_log = gunicorn_with_pages
    cookie, token = _sign_in_form(base_url)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pages = list(
            pool.map(
                lambda n: _sign_in(base_url, cookie, token, f"wrong-{n}"),
                range(settings.SIGN_IN_ATTEMPTS),
            )
        )
    assert all("not correct" in page for page in pages)
    assert "Too many attempts" in _sign_in(base_url, cookie, token, "wrong-again")

    served = [line.split() for line in access_log.read_text().splitlines() if line.strip()]
    assert len({pid for pid, _status in served}) == 2, "the requests did not reach both workers"
