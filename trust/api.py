"""POST /api/v1/oidc/token: a CI pipeline trades its provider's OIDC ID token for a
short-lived deployment token (docs/trusted-publishing.md). No Bearer token: the ID token is
the credential. Registered on the one API by config/urls.py."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Schema, Status

from orgs.audit import USER_AGENT_MAX, client_ip
from tokens.api.core import address_limit_reached, api
from tokens.api.schemas import ErrorOut, IssuedTokenOut, Text
from trust import oidc
from trust.services import Exchanged, exchange

ISSUER_RETRY_SECONDS = 30
ID_TOKEN_MAX_LENGTH = 16_384


class ExchangeIn(Schema):
    id_token: Text = Field(
        max_length=ID_TOKEN_MAX_LENGTH,
        description="The OIDC ID token the CI provider signed for this job.",
    )
    project: Text = Field(max_length=101, description="The project to deploy: org/project.")


class ExchangedTokenOut(IssuedTokenOut):
    policy: int = Field(description="The id of the trust policy that matched.")
    matched: dict[str, str] = Field(description="The claims that matched the policy.")


def _refused(detail: str) -> dict:
    return {"error": "invalid_id_token", "detail": detail}


@api.post(
    "/oidc/token",
    auth=None,
    response={
        201: ExchangedTokenOut,
        **{code: ErrorOut for code in (400, 401, 413, 414, 422, 429, 503)},
    },
    tags=["tokens"],
    summary="Exchange a CI provider's OIDC ID token for a short-lived deployment token",
)
@sensitive_variables("payload", "done")
def oidc_token(request: HttpRequest, payload: ExchangeIn, response: HttpResponse):
    """Trusted publishing: the ID token's signature (the issuer's published keys), `iss`,
    `aud`, `exp`/`nbf`/`iat` and claims are checked against the project's trust policies;
    on success a deployment token living the policy's lifetime (5–60 minutes) is in the
    answer, once. Every refusal is 401 `invalid_id_token` naming the check that failed; an
    issuer that cannot be reached is 503 `issuer_unavailable` with Retry-After; more than
    TRUSTED_PUBLISHER_EXCHANGES_PER_MINUTE (60) from one address are 429 `rate_limited`."""
    response["Cache-Control"] = "no-store"
    # Every pipeline run makes one exchange; a flood of forged or replayed ID tokens makes
    # many (each one a signature check, maybe a key fetch).
    limited = address_limit_reached(
        request,
        response,
        "oidc-token",
        limit=settings.TRUSTED_PUBLISHER_EXCHANGES_PER_MINUTE,
        window=60,
        what="exchanges",
    )
    if limited is not None:
        return limited
    try:
        done = exchange(
            id_token=payload.id_token,
            project=payload.project,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX],
        )
    except oidc.IdTokenRefused as refusal:
        response["WWW-Authenticate"] = 'Bearer realm="tokendesk", error="invalid_token"'
        return Status(401, _refused(refusal.detail))
    except oidc.IssuerUnavailable as error:
        response["Retry-After"] = str(ISSUER_RETRY_SECONDS)
        detail = f"The ID token's issuer cannot be checked now: {error.detail}. Retry later."
        return Status(503, {"error": "issuer_unavailable", "detail": detail})
    # The only time this token is shown.
    return Status(201, _Answer(done))


class _Answer:
    """The issued token's attributes, its plaintext, and what matched, for the one answer."""

    def __init__(self, done: Exchanged):
        self.plaintext = done.issued.plaintext
        self.policy = done.policy.pk
        self.matched = done.matched
        self._token = done.issued.token

    def __getattr__(self, name: str):
        return getattr(self._token, name)
