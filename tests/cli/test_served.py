"""The server serves its CLI without sign-in: a page with hashes and CI steps, the zipapp,
the wheel; the hash shown is the hash of the bytes served."""

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from config.cli_downloads import cli_version
from tokens import format as token_format

VERSION = cli_version()
WHEEL = f"tokendesk_cli-{VERSION}-py3-none-any.whl"
SYSTEM_PYTHON = "/usr/bin/python3"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def page(client, db):
    response = client.get("/cli/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_is_open_to_anyone_and_in_the_app_layout(page):
    assert "<h1>Command-line client</h1>" in page
    assert "site-footer" in page and "Tokendesk</strong>" in page
    assert f"tokendesk</code> {VERSION}" in page


@pytest.mark.parametrize("name", ["tokendesk.pyz", WHEEL])
def test_the_hash_on_the_page_is_the_hash_of_the_bytes_served(client, page, name):
    served = client.get(f"/cli/{name}")
    content = b"".join(served.streaming_content) if served.streaming else served.content

    assert served.status_code == 200
    assert served["Content-Disposition"] == f'attachment; filename="{name}"'
    assert served["ETag"] == f'"{sha256(content)}"'
    assert f'href="/cli/{name}"' in page
    assert sha256(content) in page
    listed = client.get(f"/cli/{name}.sha256").content.decode()
    assert listed == f"{sha256(content)}  {name}\n"


def test_the_steps_download_from_this_server_and_pin_the_hash(client, page):
    pyz_hash = sha256(client.get("/cli/tokendesk.pyz").content)
    steps = re.findall(r"<textarea[^>]*>(.*?)</textarea>", page, re.DOTALL)

    # GitHub Actions, GitLab CI; then both again with trusted publishing (no stored secret).
    assert len(steps) == 4
    for step in steps:
        assert 'curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"' in step.replace("&quot;", '"')
        assert f"{pyz_hash}  tokendesk.pyz" in step and "sha256sum -c -" in step
        assert "TOKENDESK_URL: http://testserver\n" in step
    assert "${{ secrets.TOKENDESK_TOKEN }}" in steps[0]
    github_oidc, gitlab_oidc = steps[2:]
    for step in (github_oidc, gitlab_oidc):
        assert "deploy acme/web --oidc" in step and "TOKENDESK_TOKEN" not in step
    assert "id-token: write" in github_oidc
    assert "TOKENDESK_ID_TOKEN:\n      aud: http://testserver\n" in gitlab_oidc
    assert f'pip install "http://testserver/cli/{WHEEL}#sha256=' in page


def test_the_steps_use_the_address_the_server_was_reached_at(client, db, settings):
    settings.ALLOWED_HOSTS = ["tokens.example.com"]
    page = client.get("/cli/", secure=True, HTTP_HOST="tokens.example.com").content.decode()

    assert "TOKENDESK_URL: https://tokens.example.com\n" in page


@pytest.mark.parametrize(
    "name",
    ["tokendesk.zip", "tokendesk_cli-0.0.1-py3-none-any.whl", "..%2fsettings.py", "x.sha256"],
)
def test_other_names_are_not_found(client, db, name):
    assert client.get(f"/cli/{name}").status_code == 404


def test_the_files_are_read_only(client, db):
    assert client.post("/cli/tokendesk.pyz").status_code == 405
    assert client.head("/cli/tokendesk.pyz").status_code == 200


def test_the_template_keeps_to_the_content_security_policy():
    template = (settings.BASE_DIR / "templates" / "cli.html").read_text()
    assert "<script" not in template and "style=" not in template and "<style" not in template


# --- the zipapp runs with the system python3 and no virtualenv -----------------------


@pytest.fixture
def system_python():
    if not Path(SYSTEM_PYTHON).exists():
        pytest.skip(f"{SYSTEM_PYTHON} is missing: the zipapp is checked with the system python")
    return SYSTEM_PYTHON


def run_pyz(python, pyz, *args, stdin=""):
    return subprocess.run(  # noqa: S603
        [python, "-I", str(pyz), *args],
        env={"PATH": "/usr/bin:/bin"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_zipapp_runs_with_the_system_python(system_python, client, db, tmp_path):
    pyz = tmp_path / "tokendesk.pyz"
    pyz.write_bytes(client.get("/cli/tokendesk.pyz").content)

    version = run_pyz(system_python, pyz, "--version")
    token = token_format.generate("ci", "tdk")
    scan = run_pyz(system_python, pyz, "scan", stdin=f"TOKEN={token}\n")

    assert (version.returncode, version.stdout) == (0, f"tokendesk {VERSION}\n")
    assert scan.returncode == 1 and scan.stdout == f"<stdin>:1: {token_format.preview(token)}\n"
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
