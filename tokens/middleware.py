from collections.abc import Callable

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
