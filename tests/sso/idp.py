"""A real OpenID Connect provider (django-oauth-toolkit, tests/sso/provider/) in its own
process on loopback, and Tokendesk's settings pointing at it."""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from accounts import oidc_settings
from tests.sso.provider.accounts import CLIENT_ID, CLIENT_SECRET, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_ID = "idp"
PROVIDER_NAME = "Test IdP"
START_TIMEOUT_S = 30


@dataclass
class IdentityProvider:
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base}/o"


@pytest.fixture(scope="session")
def identity_provider():
    data_dir = tempfile.mkdtemp(prefix="tokendesk-idp-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sso.provider.settings",
        "IDP_DATA_DIR": data_dir,
        "PYTHONPATH": str(ROOT),
    }
    log = open(Path(data_dir) / "stderr.log", "w")  # noqa: SIM115  (closed in teardown)
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "idp_serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = process.stdout.readline()  # "READY <port>", or "" if it died
        if not line.startswith("READY "):
            process.wait(timeout=START_TIMEOUT_S)
            log.flush()
            pytest.fail(f"identity provider did not start: {Path(log.name).read_text()}")
        yield IdentityProvider(port=int(line.split()[1]))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def configure(settings, issuer: str, *, domains=("allowed.test",), **values) -> None:
    """Tokendesk's settings as the environment would make them (config/settings.py)."""
    oidc = {
        "OIDC_ISSUER_URL": issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": PROVIDER_NAME,
        **values,
    }
    settings.OIDC_SETTINGS = oidc
    settings.OIDC_PROVIDER_ID = PROVIDER_ID
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = list(domains)
    settings.SOCIALACCOUNT_PROVIDERS = oidc_settings.providers(
        oidc, provider_id=PROVIDER_ID, name=PROVIDER_NAME
    )


@pytest.fixture
def sso_settings(settings, identity_provider):
    configure(settings, identity_provider.issuer)
    return settings


def sign_in_through_provider(client, email: str):
    """The authorization code flow as a browser would run it: Tokendesk's button (POST) →
    the provider's authorize endpoint → its login form → back to Tokendesk's callback with a
    code, which Tokendesk exchanges (with the PKCE verifier) over real HTTP. Returns
    Tokendesk's answer to the callback."""
    start = client.post(f"/accounts/oidc/{PROVIDER_ID}/login/", {"process": "login"})
    assert start.status_code == 302, start.content
    return through_provider(client, start["Location"], email)


def through_provider(client, authorize: str, email: str):
    """From the provider's authorize URL: its login form, then Tokendesk's callback."""
    at_provider = requests.Session()
    login_page = at_provider.get(authorize, timeout=10)
    assert login_page.status_code == 200
    answer = at_provider.post(
        login_page.url,
        data={
            "username": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": at_provider.cookies["idp_csrftoken"],
        },
        allow_redirects=False,
        timeout=10,
    )
    location = urljoin(login_page.url, answer.headers["Location"])
    while not location.startswith("http://testserver/"):
        answer = at_provider.get(location, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:500]
        location = urljoin(location, answer.headers["Location"])
    callback = urlsplit(location)
    return client.get(f"{callback.path}?{callback.query}")
