"""`tokendesk deploy --oidc` and `tokendesk oidc-token` end to end: the zipapp the server
serves, run with the system python3 as a pipeline would, with GitHub Actions' (or GitLab's)
environment pointing at the loopback issuer, against a live server."""

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from orgs.audit import Actor
from orgs.models import Deployment
from tests.factories import make_org, make_project
from tests.trust.issuer import REQUEST_TOKEN
from tokens.models import Token
from trust.services import clean_policy, publisher_create

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture
def pyz(live_server, tmp_path) -> Path:
    if not Path(SYSTEM_PYTHON).exists():
        pytest.fail(f"{SYSTEM_PYTHON} is missing: these tests run the CLI with the system python")
    path = tmp_path / "tokendesk.pyz"
    with urllib.request.urlopen(live_server.url + "/cli/tokendesk.pyz") as response:  # noqa: S310
        path.write_bytes(response.read())
    return path


@pytest.fixture
def project(live_server, issuer, transactional_db):
    org = make_org("acme", owner="owner@example.test")
    web = make_project(org, "web")
    fields = clean_policy(
        issuer=issuer.url,
        audience=live_server.url,  # what the CLI asks for: the server's address
        conditions={"repository": "acme/web", "ref": "refs/heads/main"},
        permissions=["projects:read", "deployments:write"],
        lifetime_minutes=10,
    )
    publisher_create(project=web, fields=fields, actor=Actor())
    return web


def cli(live_server, pyz, *args, **environ) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "TOKENDESK_URL": live_server.url, **environ}
    return subprocess.run(  # noqa: S603
        [SYSTEM_PYTHON, str(pyz), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def github_env(issuer) -> dict:
    return {
        "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.url + "/actions-token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }


def test_deploy_with_oidc_on_github_actions(live_server, pyz, issuer, project):
    step = cli(live_server, pyz, "deploy", "acme/web", "--oidc", "--ref", "abc123", "--json",
               **github_env(issuer))  # fmt: skip

    assert step.returncode == 0, step.stderr
    assert json.loads(step.stdout)["ref"] == "abc123"
    deployment = Deployment.objects.get()
    token = Token.objects.get(pk=deployment.token_id)
    assert token.kind == Token.Kind.DEPLOYMENT and token.project == project
    assert (token.expires_at - token.created_at).total_seconds() <= 600
    assert "/actions-token" in issuer.requests


def test_a_pipeline_of_another_branch_is_refused(live_server, pyz, issuer, project):
    issuer.actions_claims = {"ref": "refs/heads/feature"}
    step = cli(live_server, pyz, "deploy", "acme/web", "--oidc", "--ref", "abc123",
               **github_env(issuer))  # fmt: skip

    assert step.returncode == 1
    assert "invalid_id_token" in step.stderr and "claims" in step.stderr
    assert not Deployment.objects.exists()


def test_oidc_token_on_gitlab_prints_only_the_token(live_server, pyz, issuer, project):
    id_token = issuer.sign(issuer.claims(live_server.url))
    step = cli(live_server, pyz, "oidc-token", "acme/web", TOKENDESK_ID_TOKEN=id_token)

    assert step.returncode == 0, step.stderr
    token = step.stdout.strip()
    assert token.startswith("tdk_dep_") and "\n" not in token
    whoami = cli(live_server, pyz, "whoami", TOKENDESK_TOKEN=token)
    assert whoami.returncode == 0, whoami.stderr
    assert "acme/web" in whoami.stdout


def test_without_an_id_token_it_says_how_to_get_one(live_server, pyz, issuer, project):
    step = cli(live_server, pyz, "deploy", "acme/web", "--oidc", "--ref", "abc123")

    assert step.returncode == 2
    assert "id-token: write" in step.stderr and "id_tokens" in step.stderr
