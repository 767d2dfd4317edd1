"""`make run` installs the runtime dependencies only (to try the app); `make test` adds the
dev extra. Checked with `make -n` against a venv that does not exist, so nothing runs."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")


def planned(target: str, tmp_path: Path, *variables: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own command line
        [MAKE, "-n", target, f"VENV={tmp_path / 'venv'}", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_run_installs_runtime_dependencies_only(tmp_path):
    plan = planned("run", tmp_path)
    assert "pip install --quiet -e . -e clients/cli" in plan
    assert "[dev]" not in plan
    assert "runserver 127.0.0.1:8000" in plan


def test_make_test_adds_the_dev_extra(tmp_path):
    plan = planned("test", tmp_path)
    runtime = plan.index("pip install --quiet -e . -e clients/cli")
    assert plan.index("pip install --quiet -e '.[dev]'") > runtime
    assert "pytest" in plan


def test_host_and_port_choose_where_make_run_listens(tmp_path):
    plan = planned("run", tmp_path, "HOST=0.0.0.0", "PORT=8123")
    assert "runserver 0.0.0.0:8123" in plan
