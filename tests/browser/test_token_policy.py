"""The token lifecycle policy on the CI tokens page, in a real browser (docs/ci-tokens.md):
a stricter policy lists the tokens it catches in a confirmation dialog before it is saved;
with and without JavaScript."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from orgs.models import AuditEvent, Organization
from tests.browser.conftest import expect_modal, sign_in

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
CI_URL = "/orgs/acme/settings/tokens/"


def acme() -> Organization:
    return Organization.objects.get(slug="acme")


def policy_panel(page: Page) -> Locator:
    return page.get_by_role("article", name="Token lifecycle policy")


def open_ci_tokens(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("main").get_by_role("link", name="Acme Inc").click()
    page.get_by_role("navigation", name="Acme Inc").get_by_role("link", name="CI tokens").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/tokens/$"))


def fill_stricter_policy(panel: Locator) -> None:
    panel.get_by_label("Require an expiration").check()
    panel.get_by_label("Maximum token lifetime (days)").fill("90")
    panel.get_by_label("Revoke tokens unused for (days)").fill("60")
    panel.get_by_role("button", name="Save policy").click()


def expect_affected_tokens(dialog: Locator) -> None:
    affected = dialog.get_by_role("list", name="Affected tokens")
    expect(
        affected.get_by_role("listitem").filter(has_text="CI token “GitHub Actions”")
    ).to_contain_text("no expiry — keeps working until reset")
    expect(
        affected.get_by_role("listitem").filter(has_text="personal token “Laptop scripts”")
    ).to_contain_text("of dev@acme.test: no expiry — refused on Acme Inc")
    expect(affected.get_by_role("listitem").filter(has_text="“api deploy”")).to_contain_text(
        "deployment token of api"
    )


def expect_saved(page: Page) -> None:
    expect(page.get_by_role("status")).to_have_text("Token policy saved.")
    panel = policy_panel(page)
    expect(panel.get_by_label("Require an expiration")).to_be_checked()
    expect(panel.get_by_label("Maximum token lifetime (days)")).to_have_value("90")
    expect(panel.get_by_label("Revoke tokens unused for (days)")).to_have_value("60")
    organization = acme()
    assert organization.require_token_expiry is True
    assert (organization.max_token_lifetime_days, organization.idle_token_revoke_days) == (90, 60)
    assert AuditEvent.objects.filter(action="org.token_policy").count() == 1


def test_a_stricter_policy_is_confirmed_with_the_tokens_it_catches(page: Page, demo):
    sign_in(page, OWNER)
    open_ci_tokens(page)
    panel = policy_panel(page)

    # Out of range: a message next to the field, nothing saved.
    panel.get_by_label("Revoke tokens unused for (days)").fill("29")
    panel.get_by_role("button", name="Save policy").click()
    expect(policy_panel(page).get_by_text("greater than or equal to 30")).to_be_visible()
    assert acme().idle_token_revoke_days is None

    fill_stricter_policy(policy_panel(page))
    dialog = page.get_by_role("dialog", name="Apply a stricter token policy?")
    expect_modal(dialog)
    expect_affected_tokens(dialog)
    assert acme().require_token_expiry is False  # not before confirming

    dialog.get_by_role("button", name="Apply policy").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect_saved(page)

    # New CI tokens must expire now: the dialog no longer offers "No expiration".
    page.get_by_role("main").get_by_role("button", name="Create token").click()
    create = page.get_by_role("dialog", name="New integration token")
    expect(create.get_by_text("“No expiration” is not allowed")).to_be_visible()
    expect(
        create.get_by_label("Expiration").locator("option", has_text="No expiration")
    ).to_have_count(0)


def test_a_stricter_policy_without_javascript(nojs_page: Page, demo):
    page = nojs_page
    sign_in(page, OWNER)
    page.goto(CI_URL)
    fill_stricter_policy(policy_panel(page))
    dialog = page.get_by_role("dialog", name="Apply a stricter token policy?")
    expect(dialog).to_be_visible()
    expect_affected_tokens(dialog)
    assert acme().require_token_expiry is False

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.get_by_role("button", name="Apply policy").click()
    assert posted.value.status == 302
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/tokens/$"))
    expect_saved(page)

    # Loosening saves at once, no dialog.
    policy_panel(page).get_by_label("Require an expiration").uncheck()
    policy_panel(page).get_by_label("Maximum token lifetime (days)").fill("")
    policy_panel(page).get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("status")).to_have_text("Token policy saved.")
    expect(page.locator("dialog")).to_have_count(0)
    assert acme().require_token_expiry is False and acme().max_token_lifetime_days is None
