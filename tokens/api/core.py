"""Bearer authentication with RFC 6750 errors, and the one error shape of every answer:
`{"error": code, "detail": sentence}`. Endpoints declare their permission with `requires`."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Status, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from config.unavailable import unavailable_response
from lib.errors import RuleError
from ops import rate_limit
from orgs.audit import client_ip
from tokens.authorization import Denied, Scope, authorize
from tokens.credential import Credential
from tokens.services import InvalidToken, token_verify


class ApiRequest(HttpRequest):
    """A request inside an API operation: `auth` is what BearerTokenAuth returned (the
    verified token as a Credential, not a model), `scope` what `requires` resolved. Annotate
    operations with it, never with HttpRequest."""

    auth: Credential
    scope: Scope
    usage_permission: str
    usage_granted: bool
    client_address: str | None


class InvalidTokenError(Denied):
    def __init__(self, detail: str):
        super().__init__(401, "invalid_token", detail)


class BearerTokenAuth(HttpBearer):
    # Overrides HttpBearer.__call__, which logs the whole Authorization header (a token)
    # when the scheme is unexpected in DEBUG.
    def __call__(self, request: HttpRequest) -> Credential:
        # META, not request.headers: that builds a dict of every header on each request.
        scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise InvalidTokenError("Send a token in the Authorization header: Bearer <token>.")
        return self.authenticate(request, credentials.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Credential:
        # Kept on the request for the usage counters (tokens.middleware): parsed once.
        request.client_address = client_ip(request)
        try:
            return token_verify(token, ip=request.client_address)
        except InvalidToken as error:
            if error.reason in ("malformed", "bad_checksum"):
                raise InvalidTokenError(
                    "This is not a Tokendesk token: check that it was copied whole."
                ) from None
            raise InvalidTokenError("The token is unknown, revoked or expired.") from None
        # A missing TOKEN_HASH_SALT (TokenConfigurationError) reaches _misconfigured: 503.


def address_limit_reached(
    request: HttpRequest, response: HttpResponse, key: str, *, limit: int, window: int, what: str
) -> Status | None:
    """Count this call against its client address's limit (ops.rate_limit, in the cache every
    instance shares): None while allowed, else the 429 answer with Retry-After."""
    verdict = rate_limit.hit(f"{key}:{client_ip(request)}", limit=limit, window=window)
    if verdict.allowed:
        return None
    response["Retry-After"] = str(verdict.retry_after)
    detail = f"Too many {what} from this address; retry later."
    return Status(429, {"error": "rate_limited", "detail": detail})


api = NinjaAPI(
    title="Tokendesk API",
    version="1",
    description="Personal, CI and deployment tokens. "
    "Authenticate with `Authorization: Bearer <token>`.",
    auth=BearerTokenAuth(),
    urls_namespace="api",
    # templates/ninja/swagger.html: the app's language, a phone layout, readable colours.
    # Without deep links, an operation's summary holds no link inside its button (axe:
    # nested interactive controls).
    docs=Swagger(settings={"deepLinking": False}),
)


def error_response(request: HttpRequest, status: int, error: str, detail: str) -> HttpResponse:
    response = api.create_response(request, {"error": error, "detail": detail}, status=status)
    if status in (401, 403):
        description = detail.replace('"', "'")
        response["WWW-Authenticate"] = (
            f'Bearer realm="tokendesk", error="{error}", error_description="{description}"'
        )
    return response


@api.exception_handler(Denied)
def _denied(request: HttpRequest, exc: Denied) -> HttpResponse:
    return error_response(request, exc.status, exc.error, exc.detail)


@api.exception_handler(RuleError)
def _rule_error(request: HttpRequest, exc: RuleError) -> HttpResponse:
    # A rule said no: 422 `validation_error`, unless the rule names its own status and code.
    status = getattr(exc, "status", 422)
    return error_response(request, status, getattr(exc, "error", "validation_error"), exc.message)


@api.exception_handler(ImproperlyConfigured)
def _misconfigured(request: HttpRequest, exc: ImproperlyConfigured) -> HttpResponse:
    # E.g. TOKEN_HASH_SALT missing (tokens.services.TokenConfigurationError): the server, not
    # the request, must change.
    return error_response(request, 503, "server_misconfigured", str(exc))


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
    # django-ninja raises HttpError(400) itself for one thing only: a body it cannot parse.
    if exc.status_code == 400:
        return error_response(request, 400, "invalid_json", "The body is not valid JSON.")
    return error_response(request, exc.status_code, "error", str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        request, 413, "payload_too_large", f"Keep the request body to {limit} bytes or fewer."
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    return unavailable_response(request, exc)


def requires(permission: str) -> Callable:
    """Declare the permission an endpoint needs. The `org` and `project` path parameters, when
    present, are resolved within the token's reach and set on `request.scope`."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: ApiRequest, *args, **kwargs):
            # For the usage counters (tokens.usage): which permission the call exercised, or
            # attempted when refused for lacking it.
            request.usage_permission = permission
            try:
                request.scope = authorize(
                    request.auth,
                    permission,
                    org_slug=kwargs.get("org"),
                    project_slug=kwargs.get("project"),
                )
            except Denied as denied:
                request.usage_granted = denied.error != "insufficient_scope"
                raise
            return view(request, *args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorator
