from collections.abc import Callable
from datetime import UTC

from django.http import HttpRequest, HttpResponse, JsonResponse

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
        if isinstance(token, Token) and token.kind == Token.Kind.SERVER:
            response["Deprecation"] = "true"
            response["Warning"] = LEGACY_WARNING
        return response


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


class JsonMethodNotAllowed:
    """The API answers every error as `{"error", "detail"}`; django-ninja's 405 is plain
    text, so it is rewritten here (keeping its Allow header)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and request.path.startswith("/api/"):
            allowed = response.get("Allow", "")
            body = {"error": "method_not_allowed", "detail": f"Use one of: {allowed}."}
            json_response = JsonResponse(body, status=405)
            json_response["Allow"] = allowed
            return json_response
        return response
