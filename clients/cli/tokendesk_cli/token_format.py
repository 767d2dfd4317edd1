"""Recognising Tokendesk tokens offline, without the server's code.

    <prefix>_<kind>_<secret><checksum>

<secret> is 32 base62 characters; <checksum> is the CRC32 of everything before it, in 6 base62
characters. A string is a token only when the checksum matches, so a scan reports almost no
false positives (one random look-alike in about 5.7e10 passes). The server's own version is
tokens/format.py; a test keeps the two in agreement.
"""

from __future__ import annotations

import re
import zlib

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
KIND_CODES = ("pat", "ci", "dep", "srv")
PREVIEW_ELLIPSIS = "…"

# Any brand prefix (servers may set TOKEN_PREFIX), bounded by non-alphanumerics so a token
# inside a longer word is not cut out of it.
TOKEN_PATTERN = re.compile(
    r"(?<![0-9A-Za-z])(?P<prefix>[a-z0-9]{1,16})_(?P<kind>pat|ci|dep|srv)_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
    r"(?![0-9A-Za-z])"
)
# A pasted secret where an id or a preview prefix belongs: the kind followed by more
# characters than a preview prefix can hold (4 before the ellipsis).
SECRET_SHAPE = re.compile(r"[a-z0-9]{1,16}_(?:pat|ci|dep|srv)_[0-9A-Za-z]{10,}")


def checksum(body: str) -> str:
    number = zlib.crc32(body.encode())
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(CHECKSUM_LENGTH, BASE62[0])


def _checksum_matches(match: re.Match) -> bool:
    token = match.group(0)
    return checksum(token[:-CHECKSUM_LENGTH]) == match["checksum"]


def is_token(candidate: str) -> bool:
    """Whether the whole string is one token with a valid checksum."""
    match = TOKEN_PATTERN.fullmatch(candidate)
    return match is not None and _checksum_matches(match)


def find_tokens(text: str):
    """Every token with a valid checksum in `text`, as (start offset, token)."""
    for match in TOKEN_PATTERN.finditer(text):
        if _checksum_matches(match):
            yield match.start(), match.group(0)


def looks_like_a_secret(value: str) -> bool:
    """A whole (or nearly whole) token, valid or not: never to be sent in a URL."""
    return SECRET_SHAPE.search(value) is not None


def preview(token: str) -> str:
    """The masked form the server shows: `tdk_pat_4fQz…k9Ab`."""
    prefix, kind, rest = token.split("_", 2)
    return f"{prefix}_{kind}_{rest[:4]}{PREVIEW_ELLIPSIS}{token[-4:]}"
