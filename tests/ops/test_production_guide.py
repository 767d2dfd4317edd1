"""docs/production.md's environment file is a working production configuration:
`manage.py check --deploy` reports nothing with it."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "production.md"


def documented_environment() -> dict[str, str]:
    """The `# /etc/tokendesk/env` block, with each `<how to generate>` placeholder filled
    the way it says (a fresh random secret)."""
    block = re.search(r"```sh\n# /etc/tokendesk/env\n(.*?)```", GUIDE.read_text(), re.S)
    assert block, "docs/production.md lost its environment file block"
    environment = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        if "secrets.token_urlsafe" in value:
            value = secrets.token_urlsafe(50)
        environment[name] = value.replace("<password>", "not-used")
    return environment


def test_the_documented_settings_pass_check_deploy(tmp_path):
    documented = documented_environment()
    assert {"SECRET_KEY", "TOKEN_HASH_SALT", "DATABASE_URL", "ALLOWED_HOSTS"} <= set(documented)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DEBUG", "DATABASE_URL", "CACHE_URL"} and not name.startswith("DJANGO_")
    } | documented
    # The checks need no database server: the documented one is not reachable from here.
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout
