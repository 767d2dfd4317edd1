"""Who uses a token, in a real browser: a CI token's page shows the addresses and routes of
its calls; Narrow permissions takes away what it never used, and the next call needing a
removed permission answers 403."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from orgs.models import Organization
from tests.browser.conftest import expect_modal, sign_in
from tests.browser.test_org_pages import ADMIN, expect_no_dialog, open_ci_tokens
from tests.factories import make_ci_token
from tokens import usage
from tokens.models import Token

pytestmark = pytest.mark.browser


def call(page: Page, plaintext: str, path: str, address: str):
    headers = {
        "Authorization": f"Bearer {plaintext}",
        "X-Forwarded-For": address,
        "User-Agent": "tokendesk-cli/0.2.1",
    }
    return page.request.get(path, headers=headers)


def test_see_who_uses_a_ci_token_and_narrow_it(page: Page, demo, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8", "::1"]  # the live server's peer is the proxy
    acme = Organization.objects.get(slug="acme")
    label = "Reporting bot"
    issued = make_ci_token(acme, None, name=label, role="read_only")
    # Its first call, eight days ago: long enough a history to suggest narrowing.
    eight_days_ago = timezone.now() - timedelta(days=8)
    usage.record(
        usage.Call(
            issued.token.pk,
            eight_days_ago.date(),
            "GET",
            "/api/v1/orgs/{org}/projects",
            "203.0.113.5",
            "tokendesk-cli/0.2",
            "projects:read",
            True,
            2,
            "",
        ),
        now=eight_days_ago,
    )
    usage.flush()
    # Today: two routes from two addresses.
    projects = "/api/v1/orgs/acme/projects"
    assert call(page, issued.plaintext, projects, "203.0.113.5").status == 200
    deployments = "/api/v1/orgs/acme/projects/web/deployments"
    assert call(page, issued.plaintext, deployments, "198.51.100.7").status == 200

    sign_in(page, ADMIN)
    open_ci_tokens(page)
    page.get_by_role("row").filter(has_text=label).get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", name=label, level=2)).to_be_visible()

    addresses = page.get_by_role("table", name="Last addresses")
    expect(addresses).to_contain_text("203.0.113.5")
    expect(addresses).to_contain_text("198.51.100.7")
    routes = page.get_by_role("list", name="Calls per route, last 30 days")
    expect(
        routes.get_by_role("listitem").filter(
            has_text="/api/v1/orgs/{org}/projects/{project}/deployments"
        )
    ).to_contain_text("1 call")
    expect(
        routes.get_by_role("listitem").filter(has_text=re.compile(r"\{org\}/projects\s+\d"))
    ).to_contain_text("2 calls")
    expect(page.get_by_role("table", name="Agents")).to_contain_text("tokendesk-cli/0.2")
    permissions = page.get_by_role("table", name="Permissions used and granted")
    expect(permissions.get_by_role("row").filter(has_text="orgs:read")).to_contain_text("Never")
    expect(permissions.get_by_role("row").filter(has_text="projects:read")).to_contain_text("Used")

    suggestion = page.get_by_role("article").filter(has_text="Narrow to what is used")
    expect(suggestion).to_contain_text("never used")
    suggestion.get_by_role("button", name="Narrow permissions").click()
    confirm = page.get_by_role("dialog", name=f"Narrow “{label}”?")
    expect_modal(confirm)
    expect(confirm).to_contain_text("audit:read")
    confirm.get_by_role("button", name="Narrow permissions").click()
    expect_no_dialog(page)
    expect(page.locator(".flash")).to_contain_text("now has only")
    # The page refreshes its usage: what was taken away is no longer listed as granted.
    expect(permissions.get_by_role("row").filter(has_text="audit:read")).to_have_count(0)
    expect(permissions.get_by_role("row").filter(has_text="projects:read")).to_contain_text("Used")
    expect(page.get_by_role("article").filter(has_text="Narrow to what is used")).to_have_count(0)

    token = Token.objects.get(pk=issued.token.pk)
    assert "audit:read" not in token.permissions and "projects:read" in token.permissions
    assert token.digest == issued.token.digest  # same secret
    # The next call needing a removed permission is refused; what it used still works.
    refused = call(page, issued.plaintext, "/api/v1/orgs/acme/audit", "203.0.113.5")
    assert refused.status == 403 and refused.json()["error"] == "insufficient_scope"
    assert call(page, issued.plaintext, projects, "203.0.113.5").status == 200
