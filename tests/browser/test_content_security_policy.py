"""Every page works under the Content-Security-Policy (no inline script or style, nothing
from another origin) and carries it, with the Permissions-Policy, in a real browser. The
`page` fixture fails any browser test on a CSP violation; this module visits every page and
opens every kind of dialog."""

import re

import pytest
from playwright.sync_api import Page, Response, expect

from accounts.models import User
from tests.browser.conftest import expect_modal, sign_in
from tests.browser.pages import OWNER, pages_for

pytestmark = pytest.mark.browser

TOKEN_RE = re.compile(r"tdk_(pat|ci|dep)_[0-9A-Za-z]{38}")


def visit(page: Page, url: str) -> Response:
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    page.wait_for_load_state("networkidle")
    policy = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy, (url, policy)
    assert "unsafe" not in policy, (url, policy)
    permissions = response.headers["permissions-policy"]
    assert "camera=()" in permissions and "clipboard-write=(self)" in permissions, permissions
    assert page.csp_violations == [], (url, page.csp_violations)
    return response


def show_copy_and_close(page: Page, title: str | re.Pattern) -> None:
    """The show-once dialog under the policy: the token is there, Copy to clipboard copies it
    (the Permissions-Policy keeps clipboard-write for the page itself), Close removes it."""
    shown = page.get_by_role("dialog", name=title)
    expect(shown).to_be_visible()
    expect_modal(shown)
    plaintext = shown.get_by_label("New token").input_value()
    assert TOKEN_RE.fullmatch(plaintext), plaintext
    shown.get_by_role("button", name="Copy to clipboard").click()
    expect(shown.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    shown.get_by_role("button", name="Close").click()
    expect(page.locator("dialog")).to_have_count(0)


def test_the_watcher_reports_a_violation(page: Page, demo):
    """The check the other tests rely on can fail: an inline style set by a script is
    refused and reported."""
    visit(page, "/accounts/login/")
    page.evaluate("document.body.setAttribute('style', 'outline: 1px solid red')")
    page.wait_for_function("getComputedStyle(document.body).outlineStyle !== 'solid'")
    page.wait_for_timeout(200)
    assert any("style-src" in violation for violation in page.csp_violations), page.csp_violations
    page.csp_violations.clear()


def test_every_page_and_dialog_works_under_the_policy(page: Page, demo):
    User.objects.filter(email=OWNER).update(is_staff=True, is_superuser=True)
    visit(page, "/accounts/login/")
    sign_in(page, OWNER)

    visit(page, "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # Personal tokens: the create dialog, the token shown once, copied, closed.
    visit(page, "/settings/tokens/")
    page.get_by_role("button", name="Create API token").click()
    dialog = page.get_by_role("dialog", name="Create API token")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill("CSP check")
    dialog.get_by_role("button", name="Create", exact=True).click()
    show_copy_and_close(page, re.compile("Your new API token"))
    # A confirmation dialog, cancelled.
    page.get_by_role("button", name="Revoke all").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.locator("dialog")).to_have_count(0)

    # CI tokens: the create dialog with the Custom role opening its permission list.
    visit(page, "/orgs/acme/settings/tokens/")
    page.get_by_role("main").get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="New integration token")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill("csp-ci")
    dialog.get_by_label("Role", exact=True).select_option(label="Custom")
    expect(dialog.locator("details.custom-permissions")).to_have_attribute("open", "")
    dialog.get_by_label("Role", exact=True).select_option(label="CI token")
    dialog.get_by_role("button", name="Create token").click()
    show_copy_and_close(page, re.compile("Your new CI token"))

    # Deployment tokens.
    visit(page, "/orgs/acme/projects/web/settings/deployment-tokens/")
    page.get_by_role("button", name="Generate deployment token").click()
    dialog = page.get_by_role("dialog", name=re.compile("New deployment token"))
    dialog.get_by_label("Expiration").select_option(label="No expiration")
    expect(dialog.locator(".no-expiry-warning")).to_be_visible()
    dialog.get_by_role("button", name="Generate token").click()
    show_copy_and_close(page, re.compile("New deployment token"))

    # Organization pages, each with the dialog it opens.
    visit(page, "/orgs/acme/")
    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("dialog")).to_have_count(0)

    visit(page, "/orgs/acme/settings/members/")
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="Add a member")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("dialog")).to_have_count(0)

    # Every other page (the one list of tests/browser/pages.py).
    for url, visible in pages_for(OWNER):
        if visible and not url.startswith("/api/"):
            visit(page, url)
            expect(page.get_by_role("heading", level=1).first).to_be_visible()

    # The admin (Django's own templates).
    visit(page, "/admin/")
    visit(page, "/admin/tokens/token/")

    # django-ninja's Swagger UI, served from our static files: it renders the operations
    # and expands one.
    visit(page, "/api/v1/docs")
    expect(page.get_by_role("heading", name=re.compile("Tokendesk API"))).to_be_visible()
    page.get_by_text("/api/v1/whoami", exact=True).first.click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    page.wait_for_timeout(300)
    assert page.csp_violations == []


def test_the_api_docs_load_nothing_from_another_origin(page: Page, demo, live_server):
    origins = set()
    page.on("request", lambda request: origins.add(re.match(r"\w+://[^/]+", request.url)[0]))
    visit(page, "/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert origins == {live_server.url}, origins
