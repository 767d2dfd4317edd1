"""The CLI end to end against a live server, the way a pipeline runs it: the zipapp is
downloaded from the server and run with the system python3, outside any virtualenv."""

import json
import subprocess
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.api.world import build_world
from tokens.models import Token

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture
def world(transactional_db):
    return build_world()


@pytest.fixture
def pyz(live_server, tmp_path) -> Path:
    if not Path(SYSTEM_PYTHON).exists():
        pytest.skip(f"{SYSTEM_PYTHON} is missing: these tests run the CLI with the system python")
    path = tmp_path / "tokendesk.pyz"
    with urllib.request.urlopen(live_server.url + "/cli/tokendesk.pyz") as response:  # noqa: S310
        path.write_bytes(response.read())
    return path


def cli(live_server, pyz, token, *args, cwd=None, url=None) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "TOKENDESK_URL": url or live_server.url,
        "TOKENDESK_TOKEN": token,
    }
    return subprocess.run(  # noqa: S603
        [SYSTEM_PYTHON, str(pyz), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or pyz.parent,
        check=False,
    )


def test_create_list_deploy_revoke(live_server, world, pyz):
    admin = world.callers["ci_admin"]
    created = cli(live_server, pyz, admin, "token", "create", "Release bot", "--project",
                  "acme/web", "--role", "ci", "--expires", "30", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    new = json.loads(created.stdout)
    assert new["kind"] == "deployment" and new["project"] == "acme/web"
    assert new["token"].startswith("tdk_dep_")

    listed = cli(live_server, pyz, admin, "token", "list", "--type", "deployment", "--json")
    assert listed.returncode == 0, listed.stderr
    assert new["id"] in [item["id"] for item in json.loads(listed.stdout)]
    assert new["token"] not in listed.stdout

    deployed = cli(live_server, pyz, new["token"], "deploy", "acme/web", "--ref", "abc123",
                   "--json", url=live_server.url + "/api/v1/")  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr
    assert json.loads(deployed.stdout)["ref"] == "abc123"

    prefix = new["preview"].split("…")[0]
    revoked = cli(live_server, pyz, admin, "token", "revoke", prefix, "--yes")
    assert revoked.returncode == 0, revoked.stderr
    again = cli(live_server, pyz, new["token"], "whoami")
    assert again.returncode == 1
    assert "invalid_token" in again.stderr and new["token"] not in again.stderr

    active = cli(live_server, pyz, admin, "token", "list", "--type", "deployment", "--json")
    everything = cli(live_server, pyz, admin, "token", "list", "--type", "deployment", "--all",
                     "--json")  # fmt: skip
    assert new["id"] not in [item["id"] for item in json.loads(active.stdout)]
    revoked = [item for item in json.loads(everything.stdout) if item["id"] == new["id"]]
    assert revoked and revoked[0]["revoked_at"] is not None


def test_a_pipeline_with_a_read_only_token_is_refused_clearly(live_server, world, pyz):
    step = cli(live_server, pyz, world.callers["ci_read_only"], "deploy", "acme/web", "--ref", "x")
    assert step.returncode == 1
    assert "deployments:write" in step.stderr and "insufficient_scope" in step.stderr


@pytest.mark.parametrize(("days", "warned"), [(13, True), (15, False)])
def test_a_token_close_to_expiry_is_announced(live_server, world, pyz, days, warned):
    caller = world.callers["ci_ci"]
    token = Token.objects.get(name="ci", kind=Token.Kind.CI)
    token.expires_at = timezone.now() + timedelta(days=days, minutes=5)
    token.save(update_fields=["expires_at"])

    step = cli(live_server, pyz, caller, "deploy", "acme/web", "--ref", "v1")

    assert step.returncode == 0, step.stderr
    assert ("this token expires" in step.stderr) is warned
    assert ("(in 13 days)" in step.stderr) is warned


def test_the_legacy_warning_links_to_the_guide_on_the_server(live_server, world, pyz):
    env = {
        "PATH": "/usr/bin:/bin",
        "TOKENDESK_URL": live_server.url,
        "TOKENDESK_SERVER_TOKEN": world.callers["ci_ci"],
        "TOKENDESK_USER_EMAIL": "x@y.test",
    }
    step = subprocess.run(  # noqa: S603
        [SYSTEM_PYTHON, str(pyz), "whoami"], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert step.returncode == 0, step.stderr
    link = step.stderr.split()[-1]
    assert link == f"{live_server.url}/docs/ci-tokens/#migrating-deployments-to-ci-tokens"
    with urllib.request.urlopen(link) as guide:  # noqa: S310
        assert b"Migrating deployments to CI tokens" in guide.read()


def test_scan_report_revokes_a_leaked_token(live_server, world, pyz, tmp_path):
    leaked = world.callers["dep_web"]
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / ".env").write_text(f"TOKENDESK_TOKEN={leaked}\n")
    before = cli(live_server, pyz, leaked, "whoami")
    assert before.returncode == 0, before.stderr

    scan = cli(live_server, pyz, "", "scan", "--report", "repo", cwd=tmp_path)

    assert scan.returncode == 1, scan.stderr
    assert scan.stdout.splitlines()[0].startswith("repo/.env:1: tdk_dep_")
    assert "Reported 1 token to" in scan.stdout and "1 well-formed" in scan.stdout
    assert leaked not in scan.stdout + scan.stderr
    after = cli(live_server, pyz, leaked, "whoami")
    assert after.returncode == 1 and "invalid_token" in after.stderr
