"""The CLI end to end against a live server: the way a pipeline uses it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.world import build_world

ROOT = Path(__file__).resolve().parents[2]
TOKENDESK = Path(sys.executable).with_name("tokendesk")


@pytest.fixture
def world(transactional_db):
    return build_world()


def cli(live_server, token, *args) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "TOKENDESK_URL": live_server.url, "TOKENDESK_TOKEN": token}
    return subprocess.run(  # noqa: S603
        [str(TOKENDESK), *args], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_create_list_deploy_delete(live_server, world):
    admin = world.callers["ci_admin"]
    created = cli(live_server, admin, "token", "create", "Release bot", "--project", "acme/web",
                  "--role", "ci", "--expires", "30", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    new = json.loads(created.stdout)
    assert new["kind"] == "deployment" and new["project"] == "acme/web"
    assert new["token"].startswith("tdk_dep_")

    listed = cli(live_server, admin, "token", "list", "--type", "deployment", "--json")
    assert listed.returncode == 0, listed.stderr
    assert new["id"] in [item["id"] for item in json.loads(listed.stdout)]
    assert new["token"] not in listed.stdout

    deployed = cli(live_server, new["token"], "deploy", "acme/web", "--ref", "abc123", "--json")
    assert deployed.returncode == 0, deployed.stderr
    assert json.loads(deployed.stdout)["ref"] == "abc123"

    prefix = new["preview"].split("…")[0]
    deleted = cli(live_server, admin, "token", "delete", prefix)
    assert deleted.returncode == 0, deleted.stderr
    again = cli(live_server, new["token"], "whoami")
    assert again.returncode == 1
    assert "invalid_token" in again.stderr and new["token"] not in again.stderr


GITHUB_ACTIONS_STEP = """
set -eu
# What a `run:` step does with `env: TOKENDESK_TOKEN: ${{ secrets.TOKENDESK_TOKEN }}`.
tokendesk whoami
tokendesk deploy acme/web --ref "$GITHUB_SHA" --environment production
"""


def run_step(live_server, token) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{TOKENDESK.parent}:{os.environ['PATH']}",
        "TOKENDESK_URL": live_server.url,
        "TOKENDESK_TOKEN": token,
        "GITHUB_SHA": "0123abcd",
    }
    return subprocess.run(  # noqa: S603
        ["bash", "-c", GITHUB_ACTIONS_STEP],  # noqa: S607
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_pipeline_deploys_with_a_ci_token(live_server, world):
    step = run_step(live_server, world.callers["ci_ci"])
    assert step.returncode == 0, step.stderr
    assert "Deployed acme/web@0123abcd to production" in step.stdout


def test_a_pipeline_with_a_read_only_token_is_refused_clearly(live_server, world):
    step = run_step(live_server, world.callers["ci_read_only"])
    assert step.returncode == 1
    assert "deployments:write" in step.stderr and "insufficient_scope" in step.stderr
