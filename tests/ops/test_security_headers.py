"""Every response carries the Content-Security-Policy and the Permissions-Policy: pages,
fragments, API answers, errors and static files alike."""

import re

import pytest
from csp.constants import NONCE
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import path

from ops.middleware import ContentSecurityPolicy

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-write=(self)"
)


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/api/v1/docs", "/api/v1/openapi.json", "/api/v1/whoami", "/no-page/"],
)
def test_every_answer_carries_both_policies(client, db, url):
    response = client.get(url)
    assert response.status_code in {200, 401, 404}
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_signed_in_pages_and_static_files_carry_them_too(signed_in):
    for url in ("/", "/settings/tokens/", "/static/app.js"):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY, url
        assert "script-src 'self'" in response["Content-Security-Policy"], url


def test_no_page_needs_a_nonce(signed_in):
    """No inline script or style is left, so the policy carries no nonce."""
    response = signed_in.get("/settings/tokens/")
    assert "nonce-" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert " style=" not in html and "<style" not in html
    assert "<script>" not in html and " onclick=" not in html and "hx-on" not in html


def test_no_template_has_inline_script_style_or_handler():
    """What the policy would refuse, looked for in every template (also the ones a browser
    test may not reach): inline <script> and <style>, style attributes, on…= handlers and
    htmx's hx-on (evaluated with Function(), which needs 'unsafe-eval'). A JSON data block
    (`<script type="application/json">`, read by a static script) is data, never run."""
    inline = re.compile(
        r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>"
        r"|<style\b|\sstyle=|\son[a-z]+=|hx-on|javascript:",
        re.I,
    )
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {match[0]}"
        for path in (settings.BASE_DIR / "templates").rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert found == []


def _through(middleware_class, view):
    request = RequestFactory().get("/")
    middleware = middleware_class(view)
    middleware.process_request(request)
    return middleware.process_response(request, view(request))


def test_the_policy_built_once_is_django_csps_own():
    def plain(request):
        return HttpResponse("ok")

    assert (
        _through(ContentSecurityPolicy, plain)["Content-Security-Policy"]
        == _through(CSPMiddleware, plain)["Content-Security-Policy"]
    )


def test_a_view_that_asks_for_a_nonce_gets_it_in_its_policy(settings):
    """No page needs one today; a policy that allows nonces still gets each response's own."""
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}

    def with_nonce(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    response = _through(ContentSecurityPolicy, with_nonce)
    nonce = response.content.decode().split("'")[1]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_a_changed_setting_changes_the_policy(settings):
    def plain(request):
        return HttpResponse("ok")

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert _through(ContentSecurityPolicy, plain)["Content-Security-Policy"] == (
        "default-src 'none'"
    )


def _database_down(request):
    raise OperationalError("connection refused")


urlpatterns = [path("down/", _database_down), path("api/v1/down", _database_down)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/down/", "/api/v1/down"])
def test_the_unavailable_answers_carry_both_policies(client, url):
    response = client.get(url)
    assert response.status_code == 503
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "default-src 'self'" in response["Content-Security-Policy"]
