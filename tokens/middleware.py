from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from ops.client_address import client_ip
from tokens import usage
from tokens.credential import Credential
from tokens.models import Token

LEGACY_WARNING = (
    '299 tokendesk "Legacy server tokens are deprecated and will stop working: '
    'move this pipeline to an organization CI token (see the Deploy auth page)."'
)


class LegacyCredentialHeaders:
    """Every API answer to a legacy server token says it is deprecated (RFC 9745 and the
    Warning header), so pipelines print it in their logs while they still work."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        token = getattr(request, "auth", None)
        if isinstance(token, Credential) and token.kind == Token.Kind.SERVER:
            response["Deprecation"] = "true"
            response["Warning"] = LEGACY_WARNING
        return response


class TokenUsageRecorder:
    """Counts every API call a verified token made (tokens.usage): route template, client
    address, agent, the permission it exercised and the status class. No query here: the
    counters are written at most once a minute per token and process."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        credential = getattr(request, "auth", None)
        match = getattr(request, "resolver_match", None)
        if isinstance(credential, Credential) and match is not None:
            now = timezone.now()
            usage.record(
                _call(request, credential, match.route, response.status_code, now), now=now
            )
        return response


def _call(
    request: HttpRequest, credential: Credential, route: str, status: int, now: datetime
) -> usage.Call:
    scope = getattr(request, "scope", None)
    project = getattr(scope, "project", None)
    return usage.Call(
        token_id=credential.id,
        day=now.date(),
        method=request.method[:7],
        route=usage.route_template(route),
        address=getattr(request, "client_address", None) or client_ip(request) or "",
        agent=usage.agent_family(request.META.get("HTTP_USER_AGENT", "")),
        permission=getattr(request, "usage_permission", ""),
        granted=getattr(request, "usage_granted", True),
        status_class=status // 100,
        project=(
            f"{project.organization.slug}/{project.slug}"[: usage.PROJECT_MAX] if project else ""
        ),
    )


class TokenExpiryHeader:
    """Every API answer to a token that expires says when, in RFC 3339 UTC, errors after
    authentication included: pipelines (and the CLI) can warn before a deploy breaks."""

    header = "Tokendesk-Token-Expires"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Set by the API's Bearer authentication only; absent for pages and anonymous calls.
        expires_at = getattr(getattr(request, "auth", None), "expires_at", None)
        if expires_at is not None:
            response[self.header] = expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return response


# Longest path plus query string the API reads. Longer ones answer 414 in the API's JSON;
# gunicorn.conf.py lets request lines up to 8190 bytes through so the app decides.
MAX_API_URL_LENGTH = 4096
API_PREFIX = "/api/"
# Error answers that reach the API's clients without going through its exception
# handlers (Django's own 404, 400 and 500 pages, django-ninja's plain-text 405).
GENERIC_ERRORS = {
    400: ("bad_request", "The request could not be read."),
    404: ("not_found", "No such API path."),
    413: ("payload_too_large", "The request body is too large."),
    500: ("server_error", "Something went wrong on the server."),
}


class JsonApiErrors:
    """Every API answer is JSON: errors are `{"error", "detail"}` whoever produced them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if len(request.get_full_path()) > MAX_API_URL_LENGTH:
            detail = f"Keep the path and query string to {MAX_API_URL_LENGTH} characters."
            return JsonResponse({"error": "uri_too_long", "detail": detail}, status=414)
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            body = {"error": "method_not_allowed", "detail": f"Use one of: {allowed}."}
            json_response = JsonResponse(body, status=405)
            json_response["Allow"] = allowed
            return json_response
        error, detail = GENERIC_ERRORS.get(
            response.status_code, ("error", f"The request failed ({response.status_code}).")
        )
        json_response = JsonResponse(
            {"error": error, "detail": detail}, status=response.status_code
        )
        for header in ("Retry-After", "WWW-Authenticate"):
            if header in response:
                json_response[header] = response[header]
        return json_response
