"""Production is configured by the environment alone; `check --deploy` is clean there."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdefghij",
    "TOKEN_HASH_SALT": "a-production-salt-that-is-long-enough-0123456789",
    "ALLOWED_HOSTS": "tokens.example.com",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_check_reports_a_missing_salt():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "TOKEN_HASH_SALT"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "tokens.E001" in result.stderr


def setting(name: str, env: dict[str, str]) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_debug_is_off_unless_it_is_set():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DEBUG"}
    assert setting("DEBUG", env) == "False"


def test_a_forgotten_debug_variable_serves_no_traceback(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DEBUG"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    page = (
        "from django.test import Client; "
        "r = Client(raise_request_exception=False).get('/no-such-page/', secure=True, "
        "HTTP_HOST='tokens.example.com'); "
        "print(r.status_code, b'URLconf' in r.content or b'Traceback' in r.content)"
    )
    result = manage("shell", "--no-imports", "-c", page, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["404", "False"]


def test_the_proxy_ssl_header_is_believed_only_when_configured():
    assert setting("SECURE_PROXY_SSL_HEADER", PRODUCTION_ENV) == "None"
    configured = {**PRODUCTION_ENV, "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    assert setting("SECURE_PROXY_SSL_HEADER", configured) == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_trusted_proxies_come_from_the_environment():
    env = {**PRODUCTION_ENV, "TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32"}
    assert setting("TRUSTED_PROXIES", env) == "['10.0.0.0/8', '2001:db8::/32']"
    env["TRUSTED_PROXIES"] = "10.0.0.0/33"
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "TRUSTED_PROXIES must list IP addresses or CIDRs" in result.stderr
