"""Reading settings from the environment, healthchecks-style: small helpers that fail with
a sentence a person can act on."""

import ipaddress
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in TRUE_WORDS:
        return True
    if raw.strip().lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no; got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def load_dotenv(path: Path, *, create: bool) -> None:
    """Load KEY=VALUE lines into os.environ without overriding what is already set.

    In development the file is created on first run with fresh random secrets, so a clone
    works without setup and no secret is ever committed (.env is git-ignored).
    """
    if create and not path.exists():
        path.write_text(
            "# Generated on first run for local development. Never commit this file.\n"
            f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
            f"TOKEN_HASH_SALT={secrets.token_urlsafe(48)}\n"
        )
        path.chmod(0o600)
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip())


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses or CIDRs (`10.0.0.0/8, ::1`), checked here so a typo
    stops the start instead of silently trusting nothing (or too much)."""
    networks = env_list(name, [])
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or CIDRs like 10.0.0.0/8, separated by "
                f"commas; {network!r} is neither."
            ) from None
    return networks
