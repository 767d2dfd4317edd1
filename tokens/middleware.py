from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
