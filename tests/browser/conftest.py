"""Browser fixtures: a real Chromium (Debian's, never a downloaded one) driven by Playwright
against pytest-django's live server."""

import io
import os
import shutil

import pytest
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

DEMO_PASSWORD = "demo-password"
DEFAULT_TIMEOUT_MS = 10_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Run browser tests last. While Playwright's sync API is started, an asyncio loop runs in
    the main thread (and DJANGO_ALLOW_ASYNC_UNSAFE is set); the session-scoped browser is
    only stopped at the end of the session, so no other test should run after it starts."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser() -> Browser:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Browser tests need Debian's Chromium on PATH (`apt-get install chromium`); "
            "`chromium` was not found.",
            pytrace=False,
        )
    # The sync API keeps an event loop running in the main thread, so Django would refuse
    # ORM calls from the tests (and from pytest-django's database teardown).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_context(browser: Browser, live_server, **options) -> BrowserContext:
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    return context


# Every document reports what the Content-Security-Policy blocked, before any of its own
# scripts run (also in frames): the event carries the directive and what was refused.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
      `at ${event.sourceFile || event.documentURI}:${event.lineNumber} ` +
      `(${(event.sample || "").slice(0, 80)})`
  );
});
"""


def _page_watching_errors(context: BrowserContext) -> Page:
    page = context.new_page()
    page.js_errors = []
    page.csp_violations = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    context.expose_function("reportCspViolation", lambda text: page.csp_violations.append(text))
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    # Chromium also logs each refusal; catches what an event listener could miss.
    page.on(
        "console",
        lambda message: (
            page.csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """The cache (a database table the test flush leaves alone) starts empty, so sign-in
    attempts counted by one test do not lock the next one out."""
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        cache.clear()


@pytest.fixture
def page(browser, live_server, transactional_db):
    context = _new_context(browser, live_server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = _page_watching_errors(context)
    yield page
    context.close()
    assert not page.js_errors, f"uncaught JavaScript errors: {page.js_errors}"
    assert not page.csp_violations, f"Content-Security-Policy violations: {page.csp_violations}"


@pytest.fixture
def nojs_page(browser, live_server, transactional_db):
    context = _new_context(browser, live_server, java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo(transactional_db):
    """The demo organization and users of `manage.py seed_demo`
    (docs/design.md#demo-data-and-commands)."""
    call_command("seed_demo", stdout=io.StringIO())


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main").get_by_text(email)).to_be_visible()


def expect_modal(dialog: Locator) -> None:
    """The dialog is open as a modal (focus trapped, page behind inert). A server-rendered
    dialog is visible with `open` a moment before app.js reopens it with showModal(), so
    this waits for it rather than checking once."""
    expect(dialog.and_(dialog.page.locator("dialog:modal"))).to_be_visible()
