"""`Tokendesk-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (docs/webhooks.md)."""

import hashlib
import hmac

HEADER = "Tokendesk-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
