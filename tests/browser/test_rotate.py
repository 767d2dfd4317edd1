"""Rotate with overlap in a real browser (docs/ci-tokens.md): rotate a CI token, see the
old secret's overlap in the table, end it; the same without JavaScript."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import expect_modal, sign_in
from tests.browser.test_org_pages import (
    ADMIN,
    CI_TOKEN_RE,
    CI_URL,
    assert_same_document,
    create_ci_token,
    expect_no_dialog,
    mark_document,
    masked,
    open_ci_tokens,
    shown_token,
    whoami,
)
from tokens.models import Token

pytestmark = pytest.mark.browser


def test_rotate_a_ci_token_see_the_overlap_and_end_it(page: Page, demo):
    label = "Nightly export"
    sign_in(page, ADMIN)
    open_ci_tokens(page)
    old = create_ci_token(page, label)
    row = page.get_by_role("row").filter(has_text=label)
    mark_document(page)

    # Rotate: a dialog with the overlap choice (24 hours preselected).
    row.get_by_role("button", name=f"Rotate {label}").click()
    confirm = page.get_by_role("dialog", name=f"Rotate “{label}”?")
    expect(confirm).to_be_visible()
    expect_modal(confirm)
    expect(confirm).to_contain_text(masked(old))
    expect(confirm.get_by_label("24 hours")).to_be_checked()
    confirm.get_by_label("1 hour").check()
    confirm.get_by_role("button", name="Rotate token").click()

    # The new secret is shown once and says how long the old one keeps working.
    shown, new = shown_token(page, f"Your new CI token “{label}”")
    assert CI_TOKEN_RE.fullmatch(new) and new != old
    expect(shown).to_contain_text(f"The previous secret ({masked(old)}) keeps working until")
    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)

    # Both secrets work; the table shows the overlap.
    assert whoami(page, old).status == 200
    assert whoami(page, new).json()["token"]["name"] == label
    expect(row).to_contain_text(re.compile(rf"Old secret {re.escape(masked(old))} valid until"))
    expect(row.locator("code.preview")).to_have_text(masked(new))
    assert_same_document(page)

    # End overlap now, confirmed: the old secret stops, the new one keeps working.
    row.get_by_role("button", name=f"End overlap now for {label}").click()
    confirm = page.get_by_role("dialog", name=f"End the overlap of “{label}”?")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("stops working at once")
    confirm.get_by_role("button", name="End overlap now").click()
    expect_no_dialog(page)
    expect(page.get_by_role("status").or_(page.locator(".flash"))).to_contain_text(
        "stopped working"
    )
    expect(row).not_to_contain_text("Old secret")
    assert whoami(page, old).status == 401
    assert whoami(page, new).status == 200
    assert_same_document(page)


def test_rotate_without_javascript(nojs_page: Page, demo):
    page = nojs_page
    sign_in(page, ADMIN)
    page.goto(CI_URL)
    token = Token.objects.filter(kind=Token.Kind.CI, organization__slug="acme").first()
    row = page.locator(f"#token-{token.pk}")
    row.get_by_role("button", name=f"Rotate {token.name}").click()
    confirm = page.get_by_role("dialog", name=f"Rotate “{token.name}”?")
    confirm.get_by_label("7 days").check()
    confirm.get_by_label(re.compile("until the new secret is first used")).check()
    confirm.get_by_role("button", name="Rotate token").click()
    shown = page.get_by_role("dialog", name=f"Your new CI token “{token.name}”")
    expect(shown).to_contain_text("or until this one is first used")
    new = shown.get_by_label("New token").input_value()
    shown.get_by_role("button", name="Close").click()
    expect(page.locator(f"#token-{token.pk}")).to_contain_text("or the new secret's first use")
    # The new secret's first use ends the overlap.
    assert whoami(page, new).status == 200
    page.reload()
    expect(page.locator(f"#token-{token.pk}")).not_to_contain_text("Old secret")


def test_no_expiration_shows_a_warning_line(page: Page, demo):
    sign_in(page, "dev@acme.test")
    page.goto("/settings/tokens/")
    page.get_by_role("button", name="Create API token").click()
    dialog = page.get_by_role("dialog", name="Create API token")
    expiry = dialog.get_by_label("Expiration")
    expect(expiry).to_have_value("30")
    warning = dialog.get_by_text("a token without an expiration date works until")
    expect(warning).to_be_hidden()
    expiry.select_option(label="No expiration")
    expect(warning).to_be_visible()
    expiry.select_option(label="90 days")
    expect(warning).to_be_hidden()
    expiry.select_option(label="No expiration")
    dialog.get_by_label("Name", exact=True).fill("forever")
    dialog.get_by_role("button", name="Create").click()
    expect(page.get_by_role("dialog", name=re.compile("Your new API token"))).to_be_visible()
    assert Token.objects.get(name="forever").expires_at is None


def test_a_ci_token_restricted_to_addresses(page: Page, demo):
    sign_in(page, ADMIN)
    open_ci_tokens(page)
    page.get_by_role("main").get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="New integration token")
    dialog.get_by_label("Name", exact=True).fill("Office only")
    allowed = dialog.get_by_label("Allowed IP addresses (optional)")
    allowed.fill("203.0.113.0/33")
    dialog.get_by_role("button", name="Create token").click()
    expect(dialog.locator(".field-error")).to_contain_text("not an IPv4 or IPv6")
    allowed.fill("203.0.113.9/24\n2001:db8::/32")
    dialog.get_by_role("button", name="Create token").click()
    shown, plaintext = shown_token(page, "Your new CI token “Office only”")
    shown.get_by_role("button", name="Close").click()
    row = page.get_by_role("row").filter(has_text="Office only")
    expect(row).to_contain_text("Only from 203.0.113.0/24, 2001:db8::/32")
    response = whoami(page, plaintext)  # the live server sees 127.0.0.1
    assert response.status == 403
    assert response.json() == {
        "error": "ip_not_allowed",
        "detail": "This token may not be used from your address, 127.0.0.1.",
    }
