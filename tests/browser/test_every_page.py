"""Every page and every dialog, as each demo user, on a phone (360×740) and a desktop
(1280×800): nothing scrolls sideways, and axe-core finds no critical or serious violation
(/api/v1/docs included). Screenshots of the token pages go to tests/browser/screenshots/
(git-ignored) for a reviewer to look at."""

import re
import time
from pathlib import Path

import axe_playwright_python
import pytest
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from accounts.models import User
from orgs.audit import Actor
from orgs.models import Organization
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, expect_modal, sign_in
from tests.browser.pages import (
    ADMIN,
    ADMINS,
    ANONYMOUS_PAGES,
    DEMO_USERS,
    DETAIL_LINKS,
    DEV,
    ORG,
    OWNER,
    SCREENSHOTS,
    pages_for,
)
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import token_issue, token_revoke

pytestmark = [
    pytest.mark.browser,
    # Layout, overflow and accessibility are the templates' and the CSS's, whatever the
    # database: the longest test of the suite runs once per CI run (.ci/run runs the whole
    # suite on SQLite first), keeping each `make test` under ten minutes.
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="markup does not depend on the database: this runs on SQLite",
    ),
]

WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
SHOTS = Path(__file__).resolve().parent / "screenshots"
# axe-core as the axe-playwright-python package ships it (no CDN): injected into every document
# by the browser itself, before the page's scripts, so the page's own policy does not apply.
AXE = Path(axe_playwright_python.__file__).parent / "axe.min.js"
SERIOUS = ("critical", "serious")

RUN_AXE = """async (selector) => {
  const context = selector ? document.querySelector(selector) : document;
  const result = await axe.run(context, {
    resultTypes: ["violations"],
    runOnly: {
      type: "tag",
      values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
  });
  return result.violations
    .filter((violation) => ["critical", "serious"].includes(violation.impact))
    .map((violation) => ({
      id: violation.id, impact: violation.impact, help: violation.help,
      nodes: violation.nodes.slice(0, 3).map((node) => node.target.join(" ") + ": " +
        node.failureSummary.replace(/\\s+/g, " ").slice(0, 200)),
    }));
}"""

# What a scan covers: the dialog, or the whole document (header, navigation and all).
MARKUP = """(selector) => selector
  ? document.querySelector(selector).outerHTML
  : document.documentElement.outerHTML"""
SCANNED: set[tuple[str, str]] = set()

# The controls of a page that open a dialog in the slot (their own hx-target or an
# ancestor's), one per kind (ids stripped from the URL), visible ones only.
DIALOG_OPENERS = """() => {
  const seen = new Set();
  const openers = [];
  for (const element of document.querySelectorAll("main [hx-get]")) {
    const holder = element.closest("[hx-target]");
    if (!holder || holder.getAttribute("hx-target") !== "#dialog-slot") continue;
    if (element.getClientRects().length === 0) continue;
    const url = element.getAttribute("hx-get");
    const kind = url.replace(/[0-9]+/g, "N");
    if (seen.has(kind)) continue;
    seen.add(kind);
    openers.push(url);
  }
  return openers;
}"""


def open_context(browser: Browser, live_server, width: str, **options) -> BrowserContext:
    context = browser.new_context(base_url=live_server.url, viewport=WIDTHS[width], **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(path=str(AXE))
    return context


class Checker:
    """Collects every problem of a run, so one test reports them all at once."""

    def __init__(self, page: Page, width: str):
        self.page, self.width, self.problems = page, width, []

    def check(self, where: str, scope: str = "") -> None:
        page = self.page
        overflow = page.evaluate(
            "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
        )
        if overflow[0] > overflow[1]:
            self.problems.append(f"{self.width} {where}: scrolls sideways {overflow}")
        if scope:
            inner = page.locator(scope).evaluate("e => [e.scrollWidth, e.clientWidth]")
            if inner[0] > inner[1] + 1:
                self.problems.append(f"{self.width} {where}: the dialog scrolls sideways {inner}")
        # The same markup at the same width gives the same findings: a guide, the API docs or
        # a dialog every admin sees alike is scanned once per run, not once per user.
        markup = page.evaluate(MARKUP, scope or None)
        # (Numbers, CSRF tokens and the signed-in address aside: same markup, same result.)
        key = (self.width, re.sub(r"[0-9]+|csrf[^\s>]*|[a-z]+@acme\.test", "", markup))
        if key in SCANNED:
            return
        page.wait_for_function("() => window.axe !== undefined")
        found = page.evaluate(RUN_AXE, scope or None)
        if not found:
            SCANNED.add(key)
        for violation in found:
            self.problems.append(f"{self.width} {where}: axe {violation}")

    def visit(self, url: str, visible: bool) -> None:
        response = self.page.goto(url)
        assert response is not None
        expected = 200 if visible else 404
        if response.status != expected:
            self.problems.append(f"{self.width} {url}: {response.status}, not {expected}")
            return
        if not visible:
            expect(self.page.get_by_role("heading", name="Page not found")).to_be_visible()
        if url.startswith("/api/v1/docs"):
            # Swagger UI renders the operations from the schema after loading; one of them
            # is checked open, ready to try.
            expect(self.page.locator(".opblock").first).to_be_visible()
            self.check(url)
            self.page.locator(".opblock-summary-control").first.click()
            self.page.get_by_role("button", name="Try it out").click()
            expect(self.page.get_by_role("button", name="Execute")).to_be_visible()
            url += " (an operation open)"
        self.check(url)

    def dialogs(self, url: str) -> None:
        """Opens every kind of dialog the page offers, checks it, closes it with Escape."""
        page = self.page
        for opener_url in page.evaluate(DIALOG_OPENERS):
            opener = page.locator(f'main [hx-get="{opener_url}"]').first
            opener.click()
            dialog = page.locator("#dialog-slot dialog")
            expect_modal(dialog)
            self.check(f"{url} dialog {opener_url}", scope="#dialog-slot dialog")
            page.keyboard.press("Escape")
            expect(page.locator("#dialog-slot dialog")).to_have_count(0)


def in_view(locator: Locator) -> bool:
    """Entirely inside the viewport (not below the fold of the dialog or the page)."""
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }"
    )


def create_states(checker: Checker) -> None:
    """The create dialog's states: refused (no permission chosen), then the token shown once."""
    page = checker.page
    page.goto("/settings/tokens/")
    page.get_by_role("button", name="Create API token").click()
    dialog = page.get_by_role("dialog", name="Create API token")
    expect_modal(dialog)
    dialog.get_by_label("Name", exact=True).fill(f"every page {checker.width}")
    for box in dialog.get_by_role("checkbox").all():
        box.uncheck()
    dialog.get_by_role("button", name="Create", exact=True).click()
    error = dialog.get_by_text("Choose at least one permission")
    expect(error).to_be_visible()
    # The error and the Create button are on screen, whatever the window's height.
    expect(error).to_be_in_viewport()
    assert in_view(dialog.get_by_role("button", name="Create", exact=True))
    checker.check("/settings/tokens/ create refused", scope="#dialog-slot dialog")
    dialog.get_by_role("checkbox").first.check()
    dialog.get_by_role("button", name="Create", exact=True).click()
    shown = page.get_by_role("dialog", name=re.compile("Your new API token"))
    expect_modal(shown)
    checker.check("/settings/tokens/ token shown", scope="#dialog-slot dialog")
    shown.get_by_role("button", name="Close").click()
    expect(page.locator("dialog")).to_have_count(0)


def policy_states(checker: Checker) -> None:
    """The dialogs a form opens (the server answers them into the dialog slot): a stricter
    token lifecycle policy, and turning personal-token deploys off. Each is checked, then
    closed with Escape, with nothing saved."""
    page = checker.page
    page.goto(f"{ORG}/settings/tokens/")
    panel = page.get_by_role("article", name="Token lifecycle policy")
    panel.get_by_label("Require an expiration").check()
    panel.get_by_label("Revoke tokens unused for (days)").fill("60")
    panel.get_by_role("button", name="Save policy").click()
    dialog = page.get_by_role("dialog", name="Apply a stricter token policy?")
    expect_modal(dialog)
    checker.check(f"{ORG}/settings/tokens/ stricter policy", scope="#dialog-slot dialog")
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)

    page.goto(f"{ORG}/settings/deploy-auth/")
    page.get_by_role("switch", name="Allow deployments with personal tokens").uncheck()
    dialog = page.get_by_role("dialog", name="Refuse deployments with personal tokens?")
    expect_modal(dialog)
    checker.check(f"{ORG}/settings/deploy-auth/ refuse personal", scope="#dialog-slot dialog")
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)


@pytest.fixture
def revoked(demo):
    """One revoked token of each kind, so "Show revoked" lists rows (who revoked, when)."""
    owner = User.objects.get(email=OWNER)
    dev = User.objects.get(email=DEV)
    acme = Organization.objects.get(slug="acme")
    web = acme.projects.get(slug="web")
    granted = perms.ROLE_PRESETS["ci"]
    for user in (owner, dev, User.objects.get(email=ADMIN)):
        kinds = [{"kind": Token.Kind.PERSONAL, "user": user}]
        if user == owner:
            kinds += [
                {"kind": Token.Kind.CI, "organization": acme, "role": "ci"},
                {"kind": Token.Kind.DEPLOYMENT, "project": web},
            ]
        for owner_columns in kinds:
            actor = Actor(user=user, user_agent="test")
            issued = token_issue(
                name="Retired pipeline", permissions=granted, actor=actor, **owner_columns
            )
            token_revoke(token=issued.token, actor=actor, reason="test")


@pytest.mark.parametrize("email", DEMO_USERS)
def test_every_page_on_a_phone_and_a_desktop(browser, live_server, revoked, email):
    started = time.monotonic()
    SHOTS.mkdir(exist_ok=True)
    problems = []
    for width in WIDTHS:
        context = open_context(browser, live_server, width)
        page = context.new_page()
        checker = Checker(page, width)
        if email == OWNER:
            for url in ANONYMOUS_PAGES:
                checker.visit(url, visible=True)
        sign_in(page, email)
        for url, visible in pages_for(email):
            checker.visit(url, visible)
            if not visible:
                continue
            if url == "/settings/tokens/" and width == "phone":
                # A compact header: the page's heading within the first fifth of the screen.
                top = page.get_by_role("heading", level=1).bounding_box()["y"]
                if top > WIDTHS["phone"]["height"] / 5:
                    checker.problems.append(f"phone {url}: the heading starts at {top:.0f}px")
            if url in SCREENSHOTS:
                name = f"{SCREENSHOTS[url]}-{email.split('@')[0]}-{width}.png"
                page.screenshot(path=str(SHOTS / name), full_page=True)
            checker.dialogs(url)
            if url in DETAIL_LINKS:
                links = page.locator(DETAIL_LINKS[url])
                if links.count():
                    detail = links.first.get_attribute("href")
                    checker.visit(detail, visible=True)
                    checker.dialogs(detail)
        checker.visit("/no/such/page/", visible=False)
        create_states(checker)
        if email in ADMINS:
            policy_states(checker)
        problems += checker.problems
        context.close()
    print(f"{email}: {time.monotonic() - started:.0f}s")
    assert problems == [], "\n".join(problems)
