"""Webhook signing secrets: generated, shown once, stored encrypted.

A signing secret is the HMAC key of every delivery, so the server must be able to read it
back: a one-way hash (as for tokens) would make signing impossible. It is kept as a Fernet
token (AES-128-CBC + HMAC-SHA256, from `cryptography`) under a key derived with HKDF from
WEBHOOK_SECRET_KEY, or from SECRET_KEY when that is unset. A database dump alone therefore
does not reveal any secret; the page shows only a short preview after creation."""

import base64
import secrets

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "whsec_"


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def preview(secret: str) -> str:
    return f"{secret[: len(PREFIX) + 4]}…"


def _fernet() -> Fernet:
    master = (settings.WEBHOOK_SECRET_KEY or settings.SECRET_KEY).encode()
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tokendesk webhook secrets"
    ).derive(master)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(stored: str) -> str:
    return _fernet().decrypt(stored.encode()).decode()
