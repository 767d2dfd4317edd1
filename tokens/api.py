"""The JSON API (`/api/v1/`). Bearer authentication with RFC 6750 errors; every error body
is `{"error": code, "detail": sentence}`."""

from datetime import datetime
from typing import Literal

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from orgs.audit import client_ip
from tokens.models import Token
from tokens.services import InvalidToken, TokenConfigurationError, token_verify

API_KINDS = {
    Token.Kind.PERSONAL: "personal",
    Token.Kind.CI: "ci",
    Token.Kind.DEPLOYMENT: "deployment",
    Token.Kind.SERVER: "server",
}


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


class InvalidTokenError(ApiError):
    def __init__(self, detail: str):
        super().__init__(401, "invalid_token", detail)


class BearerTokenAuth(HttpBearer):
    # Overrides HttpBearer.__call__, which logs the whole Authorization header (a token)
    # when the scheme is unexpected in DEBUG.
    def __call__(self, request: HttpRequest) -> Token:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise InvalidTokenError("Send a token in the Authorization header: Bearer <token>.")
        return self.authenticate(request, credentials.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Token:
        try:
            return token_verify(token, ip=client_ip(request))
        except InvalidToken as error:
            if error.reason == "malformed":
                raise InvalidTokenError(
                    "This is not a Tokendesk token: check that it was copied whole."
                ) from None
            raise InvalidTokenError("The token is unknown, revoked or expired.") from None
        except TokenConfigurationError as error:
            raise ApiError(503, "server_misconfigured", str(error)) from None


api = NinjaAPI(
    title="Tokendesk API",
    version="1",
    description="Personal, CI and deployment tokens. "
    "Authenticate with `Authorization: Bearer <token>`.",
    auth=BearerTokenAuth(),
    urls_namespace="api",
)


def error_response(request: HttpRequest, status: int, error: str, detail: str) -> HttpResponse:
    response = api.create_response(request, {"error": error, "detail": detail}, status=status)
    if status in (401, 403):
        description = detail.replace('"', "'")
        response["WWW-Authenticate"] = (
            f'Bearer realm="tokendesk", error="{error}", error_description="{description}"'
        )
    return response


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(request, exc.status, exc.error, exc.detail)


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "invalid_token", "Authentication is required.")


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in e.get('loc', [])[1:]) or 'body'}: {e.get('msg')}"
        for e in exc.errors
    )
    return error_response(request, 422, "validation_error", problems or "The request is invalid.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(
        request, 404, "not_found", "No such object, or not visible to this token."
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "error", str(exc))


class TokenOut(Schema):
    id: int
    name: str
    description: str
    kind: Literal["personal", "ci", "deployment", "server"]
    preview: str
    org: str | None
    project: str | None
    role: str | None
    permissions: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def from_token(token: Token) -> "TokenOut":
        return TokenOut(
            id=token.pk,
            name=token.name,
            description=token.description,
            kind=API_KINDS[token.kind],
            preview=token.preview,
            org=token.organization.slug if token.organization_id else None,
            project=str(token.project) if token.project_id else None,
            role=token.role or None,
            permissions=token.permission_list,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class UserOut(Schema):
    email: str


class WhoAmIOut(Schema):
    token: TokenOut
    user: UserOut | None


class ErrorOut(Schema):
    error: str
    detail: str


@api.get("/whoami", response={200: WhoAmIOut, 401: ErrorOut, 503: ErrorOut}, tags=["tokens"])
def whoami(request: HttpRequest) -> WhoAmIOut:
    """The calling token's metadata and, for personal tokens, its user."""
    token: Token = request.auth
    user = UserOut(email=token.user.email) if token.user_id else None
    return WhoAmIOut(token=TokenOut.from_token(token), user=user)
