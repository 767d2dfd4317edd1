"""The README's GitHub Actions step, run as the shell script it is, against a live server:
it downloads the zipapp from the server, checks its hash and deploys. The composite action in
clients/github-action/ runs the very same script."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from config.cli_downloads import cli_version, wheel_name
from orgs.models import Deployment
from tests.api.world import build_world

README = settings.BASE_DIR / "README.md"
ACTION = settings.BASE_DIR / "clients" / "github-action" / "action.yml"
MARKER = "<!-- github-actions-steps -->"


def readme_workflow() -> str:
    text = README.read_text()
    assert text.count(MARKER) == 1, f"the README marks its GitHub Actions block with {MARKER}"
    match = re.match(r"\s*```yaml\n(.*?)```", text.split(MARKER)[1], re.DOTALL)
    assert match, f"a ```yaml block follows {MARKER}"
    return match[1]


def readme_step() -> dict:
    workflow = yaml.safe_load(readme_workflow())
    (step,) = workflow["jobs"]["deploy"]["steps"]
    return step


def action_step() -> dict:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    (step,) = action["runs"]["steps"]
    return step


def test_the_action_runs_the_readme_script():
    assert action_step()["run"] == readme_step()["run"]


def test_the_action_feeds_the_script_the_variables_the_readme_sets():
    action = yaml.safe_load(ACTION.read_text())
    assert set(action["inputs"]) == {"url", "token", "project", "ref", "environment"}
    assert action_step()["shell"] == "bash"
    assert set(action_step()["env"]) == set(readme_step()["env"])
    for name in action["inputs"]:
        assert action_step()["env"][f"TOKENDESK_{name.upper()}"] == f"${{{{ inputs.{name} }}}}"


def test_the_readme_names_the_wheel_that_is_served():
    assert f"/cli/{wheel_name(cli_version())}" in README.read_text()


@pytest.fixture
def world(transactional_db):
    return build_world()


def test_the_readme_script_downloads_the_cli_and_deploys(live_server, world, tmp_path):
    for tool in ("bash", "curl", "sha256sum", "python3"):
        if shutil.which(tool, path="/usr/bin:/bin") is None:
            pytest.skip(f"{tool} is missing: the README step needs it, as a CI runner has it")
    step = readme_step()
    env = {
        # A runner's PATH: the system python3, no virtualenv.
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TOKENDESK_URL": live_server.url,
        "TOKENDESK_TOKEN": world.callers["ci_ci"],
        "TOKENDESK_PROJECT": step["env"]["TOKENDESK_PROJECT"],
        "TOKENDESK_REF": "0123abcd",
        "TOKENDESK_ENVIRONMENT": step["env"]["TOKENDESK_ENVIRONMENT"],
    }
    # GitHub runs `run:` scripts with `bash --noprofile --norc -eo pipefail`.
    result = subprocess.run(  # noqa: S603
        ["/usr/bin/env", "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "tokendesk.pyz: OK" in result.stdout
    assert "Deployed acme/web@0123abcd to production" in result.stdout
    deployment = Deployment.objects.get(ref="0123abcd")
    assert (deployment.project, deployment.environment) == (world.web, "production")
    assert (tmp_path / "tokendesk.pyz").exists()


def test_a_tampered_download_stops_the_script_before_it_runs(live_server, world, tmp_path):
    step = readme_step()
    # The same script, with the download replaced by something else.
    script = step["run"].replace(
        'curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"',
        "echo 'print(\"not the cli\")' > tokendesk.pyz",
    )
    assert script != step["run"]
    env = {
        "PATH": "/usr/bin:/bin",
        "TOKENDESK_URL": live_server.url,
        "TOKENDESK_TOKEN": world.callers["ci_ci"],
        "TOKENDESK_PROJECT": "acme/web",
        "TOKENDESK_REF": "x",
        "TOKENDESK_ENVIRONMENT": "production",
    }
    result = subprocess.run(  # noqa: S603
        ["/usr/bin/env", "bash", "-eo", "pipefail", "-c", script],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
    assert not Deployment.objects.filter(ref="x").exists()


def test_the_readme_has_no_pip_install_of_the_server():
    text = README.read_text()
    assert "pip install tokendesk\n" not in text and "pip install tokendesk`" not in text
    assert 'curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"' in text
    assert Path(ACTION).exists()
