import http
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test.signals import setting_changed

# What django-csp's decorators (@csp_exempt, @csp_update, …) leave on a response.
_PER_RESPONSE_POLICY = (
    "_csp_exempt",
    "_csp_exempt_ro",
    "_csp_config",
    "_csp_config_ro",
    "_csp_update",
    "_csp_update_ro",
    "_csp_replace",
    "_csp_replace_ro",
)


class ContentSecurityPolicy(CSPMiddleware):
    """django-csp's middleware, with the policy from settings built once instead of per
    response (~50 µs each, most of it copying the settings): the API answers on the hot path.

    Anything that makes a response's policy differ from the settings' (a nonce asked for, a
    django-csp decorator, excluded URL prefixes, DEBUG's error pages) goes through
    django-csp's own code unchanged."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        enforced = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE_POLICY)
            or enforced.get("EXCLUDE_URL_PREFIXES")
            or report_only.get("EXCLUDE_URL_PREFIXES")
            or (settings.DEBUG and response.status_code in _DEBUG_PAGES)
        ):
            return super().process_response(request, response)
        for header, policy in _settings_policies():
            if policy and header not in response:
                response[header] = policy
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


_DEBUG_PAGES = (http.HTTPStatus.NOT_FOUND, http.HTTPStatus.INTERNAL_SERVER_ERROR)
_built: list[tuple[str, str]] = []


def _settings_policies() -> list[tuple[str, str]]:
    if not _built:
        _built.extend(
            [(HEADER, build_policy()), (HEADER_REPORT_ONLY, build_policy(report_only=True))]
        )
    return _built


@receiver(setting_changed)
def _forget_built_policies(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


class PermissionsPolicy:
    """`Permissions-Policy` on every response, from settings.PERMISSIONS_POLICY: feature →
    allowed origins ("self" or a quoted origin), an empty list turning the feature off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
