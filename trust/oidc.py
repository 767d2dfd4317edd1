"""Verifying a CI provider's OIDC ID token with PyJWT: the issuer's signing keys come from its
discovery document (/.well-known/openid-configuration → jwks_uri), kept in Django's cache and
fetched again on an unknown key id at most once per TRUSTED_PUBLISHER_JWKS_REFRESH_SECONDS.

Every refusal is an IdTokenRefused naming the check that failed (never the token); an issuer
that cannot be reached is IssuerUnavailable (the API answers 503 with Retry-After)."""

import hashlib
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache

# Asymmetric only: never `none`, never HMAC (whose "secret" would be the public key).
ALLOWED_ALGORITHMS = ("RS256", "ES256")
KEY_TYPES = {"RS256": "RSA", "ES256": "EC"}
LEEWAY_SECONDS = 60
MAX_DOCUMENT_BYTES = 256 * 1024
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
DOWN_SECONDS = 10


class IdTokenRefused(Exception):
    """The ID token is not accepted; `detail` names the check, for the client."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class IssuerUnavailable(Exception):
    """The issuer's discovery document or keys could not be fetched: retry later."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def read_header(id_token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError:
        raise IdTokenRefused("malformed: not a signed JWT") from None
    algorithm = header.get("alg")
    if algorithm not in ALLOWED_ALGORITHMS:
        raise IdTokenRefused(
            f"algorithm: only {' and '.join(ALLOWED_ALGORITHMS)} signatures are accepted"
        )
    return header


def unverified_issuer(id_token: str) -> str:
    """The `iss` claim before verification, only to choose whose keys to verify with."""
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise IdTokenRefused("malformed: the claims are not readable") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer not in settings.TRUSTED_PUBLISHER_ISSUERS:
        raise IdTokenRefused("issuer: not an issuer this server trusts")
    return issuer


def verify(
    id_token: str, *, issuer: str, header: dict[str, Any], audiences: list[str]
) -> dict[str, Any]:
    """The verified claims: signature by the issuer's key `kid`, `iss`, one of `audiences`,
    `exp`, `nbf` and `iat` with LEEWAY_SECONDS, and a `jti`."""
    algorithm = header["alg"]
    key = signing_key(issuer, header.get("kid"), algorithm)
    try:
        return jwt.decode(
            id_token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audiences,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS, "strict_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise IdTokenRefused("expired: the ID token's exp has passed") from None
    except jwt.ImmatureSignatureError:
        raise IdTokenRefused("not yet valid: nbf or iat is in the future") from None
    except jwt.InvalidIssuedAtError:
        raise IdTokenRefused("malformed: iat is not a time") from None
    except jwt.InvalidAudienceError:
        raise IdTokenRefused("audience: no trust policy expects this aud") from None
    except jwt.InvalidIssuerError:
        raise IdTokenRefused("issuer: iss does not match") from None
    except jwt.MissingRequiredClaimError as error:
        raise IdTokenRefused(f"missing claim: {error.claim}") from None
    except jwt.InvalidSignatureError:
        raise IdTokenRefused("signature: not signed by the issuer's key") from None
    except jwt.PyJWTError:
        raise IdTokenRefused("malformed: the ID token could not be verified") from None


def signing_key(issuer: str, kid: str | None, algorithm: str):
    """The issuer's public key `kid`, from the cached key set, fetched again (rate limited)
    when the key is not there: the issuer may have rotated its keys."""
    if not isinstance(kid, str) or not kid:
        raise IdTokenRefused("key: the ID token names no key id (kid)")
    keys = cache.get(_cache_key("jwks", issuer))
    # Not cached (or the TTL passed): fetch. Cached without this kid: fetch again, but at
    # most once per period, so made-up key ids cannot turn us into the issuer's load test.
    if keys is None or (_find(keys, kid) is None and _may_refresh(issuer)):
        keys = _fetch_keys_or_remember_failure(issuer)
        cache.set(_cache_key("jwks", issuer), keys, settings.TRUSTED_PUBLISHER_JWKS_TTL)
    key = _find(keys, kid)
    if key is None:
        raise IdTokenRefused("key: the issuer has no signing key with this kid")
    if key.get("kty") != KEY_TYPES[algorithm]:
        raise IdTokenRefused("algorithm: does not match the issuer's key")
    try:
        return jwt.PyJWK(key, algorithm=algorithm).key
    except jwt.PyJWTError:
        raise IdTokenRefused("key: the issuer's key is not usable") from None


def _find(keys: list[dict] | None, kid: str) -> dict | None:
    return next((key for key in keys or [] if key.get("kid") == kid), None)


def _may_refresh(issuer: str) -> bool:
    # One fetch per issuer and period, shared by every app process (Django's cache).
    return cache.add(
        _cache_key("fetched", issuer), 1, settings.TRUSTED_PUBLISHER_JWKS_REFRESH_SECONDS
    )


def _cache_key(what: str, issuer: str) -> str:
    return f"trust:{what}:{hashlib.sha256(issuer.encode()).hexdigest()[:32]}"


def forget_keys(issuer: str) -> None:
    cache.delete_many([_cache_key(what, issuer) for what in ("jwks", "fetched", "down")])


def _fetch_keys_or_remember_failure(issuer: str) -> list[dict]:
    """An issuer that just failed is not asked again for DOWN_SECONDS: each request would
    otherwise hold a worker for up to the HTTP timeout while the issuer is away."""
    down = _cache_key("down", issuer)
    if cache.get(down):
        raise IssuerUnavailable("the issuer could not be reached moments ago")
    try:
        return _fetch_keys(issuer)
    except IssuerUnavailable:
        cache.set(down, 1, DOWN_SECONDS)
        raise


def _fetch_keys(issuer: str) -> list[dict]:
    discovery = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if not isinstance(discovery, dict) or discovery.get("issuer") != issuer:
        raise IssuerUnavailable("the issuer's discovery document names another issuer")
    jwks_uri = discovery.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise IssuerUnavailable("the issuer's discovery document has no jwks_uri")
    jwks = _fetch_json(jwks_uri)
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list):
        raise IssuerUnavailable("the issuer's key set has no keys")
    return [key for key in keys if isinstance(key, dict)]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _fetch_json(url: str) -> Any:
    scheme = urllib.parse.urlsplit(url).scheme
    allowed = ("https", "http") if settings.TRUSTED_PUBLISHER_ALLOW_INSECURE_ISSUERS else ("https",)
    if scheme not in allowed:
        raise IssuerUnavailable("the issuer's documents must be served over https")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.TRUSTED_PUBLISHER_HTTP_TIMEOUT) as response:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise IssuerUnavailable(
            f"the issuer could not be reached ({type(error).__name__})"
        ) from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise IssuerUnavailable("the issuer's document is too large")
    try:
        return json.loads(body)
    except ValueError:
        raise IssuerUnavailable("the issuer answered something other than JSON") from None
