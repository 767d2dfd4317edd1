"""The token format (docs/design.md#token-format): pure functions, no Django.

    <prefix>_<kind>_<secret><checksum>

<secret> is 32 base62 characters from `secrets` (~190 bits); <checksum> is the CRC32 of
everything before it in 6 base62 characters. The checksum lets the API reject typos and
garbage without a database query, and lets secret scanners match with few false positives.
"""

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
KIND_CODES = ("pat", "ci", "dep", "srv")
PREVIEW_ELLIPSIS = "…"

_TOKEN_RE = re.compile(
    r"(?P<prefix>[a-z0-9]{1,16})_(?P<kind>pat|ci|dep|srv)_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)
# Anything longer cannot be a token; checked before the regex so huge input costs nothing.
MAX_TOKEN_LENGTH = 16 + 1 + 3 + 1 + SECRET_LENGTH + CHECKSUM_LENGTH


class MalformedToken(ValueError):
    """The string is not a token of ours: wrong shape, wrong prefix or a bad checksum."""


class BadChecksum(MalformedToken):
    """Shaped like a token of ours, but its checksum does not match: a typo or a cut copy."""


@dataclass(frozen=True)
class ParsedToken:
    prefix: str
    kind: str
    secret: str


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(width, BASE62[0])


def checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate(kind: str, prefix: str) -> str:
    if kind not in KIND_CODES:
        raise ValueError(f"unknown token kind {kind!r}")
    secret = "".join(secrets.choice(BASE62) for _ in range(SECRET_LENGTH))
    body = f"{prefix}_{kind}_{secret}"
    return body + checksum(body)


def parse(candidate: str, prefix: str) -> ParsedToken:
    """Check shape, prefix and checksum; raise MalformedToken otherwise. Never touches I/O."""
    if not isinstance(candidate, str) or len(candidate) > MAX_TOKEN_LENGTH:
        raise MalformedToken("not a token")
    match = _TOKEN_RE.fullmatch(candidate)
    if match is None or match["prefix"] != prefix:
        raise MalformedToken("not a token")
    body = candidate[:-CHECKSUM_LENGTH]
    if not hmac.compare_digest(checksum(body), match["checksum"]):
        raise BadChecksum("bad checksum")
    return ParsedToken(prefix=match["prefix"], kind=match["kind"], secret=match["secret"])


def is_well_formed(candidate: str, prefix: str) -> bool:
    try:
        parse(candidate, prefix)
    except MalformedToken:
        return False
    return True


def preview(plaintext: str) -> str:
    """Masked form shown after creation: `tdk_pat_4fQz…k9Ab`."""
    prefix, kind, rest = plaintext.split("_", 2)
    return f"{prefix}_{kind}_{rest[:4]}{PREVIEW_ELLIPSIS}{plaintext[-4:]}"


def salt_fingerprint(salt: str) -> str:
    """Names which salt a digest was made with, without revealing the salt."""
    return hashlib.sha256(b"tokendesk-salt-fingerprint:" + salt.encode()).hexdigest()[:16]


def digest(plaintext: str, salt: str) -> str:
    """HMAC-SHA256 of the token keyed by the salt, hex. The only form kept at rest."""
    # hmac.digest: the one-shot C implementation, the same bytes as hmac.new(...).digest().
    return hmac.digest(salt.encode(), plaintext.encode(), "sha256").hex()
