"""Two app instances behind one load balancer: two gunicorn servers on different ports, one
PostgreSQL (the test database) and one real Redis (Debian's redis-server, started here on a
loopback port and stopped by its PID) as the shared cache (CACHE_URL). What one instance
does, the other sees on the next request: revocations, the leak-report and sign-in limits,
the once-a-minute last-use bookkeeping; and each instance's /metrics adds up its workers."""

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from orgs.models import AuditEvent
from tests.factories import (
    make_legacy_server_token,
    make_org,
    make_personal_token,
    make_user,
)
from tests.ops.test_rate_limit_across_workers import (
    ROOT,
    _free_port,
    _post,
    _production_environment,
    _sign_in,
    _sign_in_form,
    _wait_until_serving,
)
from tokens.api.routes import LEAK_REPORTS_PER_WINDOW
from tokens.models import Token

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="several app instances share a database server: needs DATABASE_URL=postgres://… "
    "(.ci/run runs the suite on PostgreSQL too)",
)
REDIS_STARTUP_SECONDS = 20
BURST_REQUESTS = 60
METRICS_TOKEN = "scrape-secret-for-the-instances"


def _call(url: str, token: str, method: str = "GET") -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback http only)
        url, headers={"Authorization": f"Bearer {token}"}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def redis_url(tmp_path):
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own command line
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + REDIS_STARTUP_SECONDS
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("redis-server did not start", pytrace=False)
                time.sleep(0.1)
        yield url, client
    finally:
        client.close()
        server.terminate()  # by its PID, which Popen holds
        server.wait(timeout=30)


@pytest.fixture
def two_instances(transactional_db, redis_url, tmp_path):
    url, _ = redis_url
    environment = _production_environment() | {
        # DEBUG=1 only so the sign-in page renders without a collectstatic manifest.
        "DEBUG": "1",
        "TOKENDESK_CREATE_DOTENV": "0",
        "CACHE_URL": url,
        "METRICS_ENABLED": "1",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    servers = []
    try:
        for name in ("a", "b"):
            port = _free_port()
            log = tmp_path / f"{name}.log"
            # Each instance's workers count in files of its own directory (gunicorn.conf.py).
            metrics_dir = tmp_path / f"metrics-{name}"
            metrics_dir.mkdir()
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", "2", "--error-logfile", str(log)],
                cwd=ROOT,
                env=environment | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
            )  # fmt: skip
            servers.append((f"http://127.0.0.1:{port}", process, log))
        for base_url, process, log in servers:
            _wait_until_serving(base_url, process, Path(log))
        yield [base_url for base_url, _, _ in servers]
    finally:
        for _, process, _ in servers:
            process.terminate()
            process.wait(timeout=30)


def _valid_verifications(base_url: str) -> float:
    """tokendesk_token_verifications_total{outcome="valid"} as one instance reports it: the
    sum over its workers (PROMETHEUS_MULTIPROC_DIR)."""
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        text = response.read().decode()
    prefix = 'tokendesk_token_verifications_total{outcome="valid"} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def test_two_instances_share_revocations_rate_limits_and_last_use(
    two_instances, redis_url, settings
):
    a, b = two_instances
    _, redis_client = redis_url
    user = make_user("owner@acme.test")

    # A token revoked through one instance is refused by the other on the next request.
    victim = make_personal_token(user, name="victim")
    manager = make_personal_token(user, name="manager", permissions={"tokens:write"})
    assert _call(f"{a}/api/v1/whoami", victim.plaintext) == 200
    assert _call(f"{b}/api/v1/whoami", victim.plaintext) == 200
    assert _call(f"{a}/api/v1/tokens/{victim.token.pk}", manager.plaintext, "DELETE") == 204
    assert _call(f"{b}/api/v1/whoami", victim.plaintext) == 401
    assert _call(f"{a}/api/v1/whoami", victim.plaintext) == 401

    # The leak-report limit is one count in Redis, whichever instance takes the report.
    total = LEAK_REPORTS_PER_WINDOW + 10
    urls = [f"{(a, b)[i % 2]}/api/v1/token-leaks" for i in range(total)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(_post, urls))
    assert statuses.count(200) == LEAK_REPORTS_PER_WINDOW, statuses
    assert statuses.count(429) == 10, statuses
    assert _post(f"{a}/api/v1/token-leaks") == 429 and _post(f"{b}/api/v1/token-leaks") == 429
    assert [key for key in redis_client.keys("*") if b"token-leaks" in key], "not in Redis"

    # Sign-in throttling counts wrong passwords in the same Redis, whichever instance.
    make_user("alice@example.test")
    cookie, form_token = _sign_in_form(a)
    pages = [
        _sign_in((a, b)[n % 2], cookie, form_token, f"wrong-{n}")
        for n in range(settings.SIGN_IN_ATTEMPTS)
    ]
    assert all("not correct" in page for page in pages)
    assert "Too many attempts" in _sign_in(a, cookie, form_token, "wrong-again")
    assert "Too many attempts" in _sign_in(b, cookie, form_token, "wrong-again")

    # last_used_at is written once a minute per token across both instances: a legacy
    # server token records each write as a legacy.use audit event, so the writes are counted.
    legacy = make_legacy_server_token(make_org("acme", owner="owner@acme.test"), user)
    valid_before = {base_url: _valid_verifications(base_url) for base_url in (a, b)}
    urls = [f"{(a, b)[i % 2]}/api/v1/whoami" for i in range(BURST_REQUESTS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda url: _call(url, legacy.plaintext), urls))
    assert statuses == [200] * BURST_REQUESTS
    # /metrics of each instance adds up its two workers' counts: half the burst each.
    for base_url in (a, b):
        counted = _valid_verifications(base_url) - valid_before[base_url]
        assert counted == BURST_REQUESTS / 2, (base_url, counted)
    writes = AuditEvent.objects.filter(action="legacy.use", target_id=legacy.token.pk)
    assert writes.count() == 1
    assert Token.objects.get(pk=legacy.token.pk).last_used_at is not None
    print(f"{BURST_REQUESTS} requests over two instances: {writes.count()} last-use write")
