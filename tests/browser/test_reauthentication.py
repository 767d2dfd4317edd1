"""Sudo mode in the browser: a session signed in too long ago creates a CI token, is asked
to confirm its password, and the token is created without typing the form again; with
HTMX (in a dialog) and without JavaScript (on a page)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, expect_modal, sign_in
from tokens.models import Token

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
TOKEN_RE = re.compile(r"tdk_ci_[0-9A-Za-z]{38}")


@pytest.fixture
def stale(settings):
    # Every sign-in is already too old.
    settings.REAUTHENTICATION_MINUTES = 0


def test_the_confirmation_dialog_then_the_token(page: Page, demo, stale):
    sign_in(page, OWNER)
    page.goto("/orgs/acme/settings/tokens/")
    page.get_by_role("main").get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="New integration token")
    dialog.get_by_label("Name", exact=True).fill("After sudo")
    dialog.get_by_role("button", name="Create token").click()

    confirm = page.get_by_role("dialog", name="Confirm it is you")
    expect(confirm).to_be_visible()
    expect_modal(confirm)
    confirm.get_by_label("Password").fill("not my password")
    confirm.get_by_role("button", name="Confirm").click()
    expect(confirm.get_by_text("That is not your password.")).to_be_visible()
    assert not Token.objects.filter(name="After sudo").exists()

    confirm.get_by_label("Password").fill(DEMO_PASSWORD)
    confirm.get_by_role("button", name="Confirm").click()
    shown = page.get_by_role("dialog", name=re.compile("New token|Your new|token", re.I))
    expect(shown.get_by_label("New token")).to_have_value(TOKEN_RE)
    assert Token.objects.get(name="After sudo").organization.slug == "acme"


def test_without_javascript_a_page_asks_then_the_token(nojs_page: Page, demo, stale):
    page = nojs_page
    sign_in(page, OWNER)
    page.goto("/orgs/acme/settings/tokens/new/")
    dialog = page.get_by_role("dialog", name="New integration token")
    dialog.get_by_label("Name", exact=True).fill("No-JS sudo")
    dialog.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label("New token")).to_have_value(TOKEN_RE)
    assert Token.objects.filter(name="No-JS sudo").count() == 1


def test_the_eleventh_wrong_password_is_throttled(page: Page, demo, settings):
    page.goto("/accounts/login/")
    for _ in range(settings.SIGN_IN_ATTEMPTS):
        page.get_by_label("E-mail").fill(OWNER)
        page.get_by_label("Password").fill("guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("not correct")
    page.get_by_label("E-mail").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        f"Too many attempts. Try again in {settings.SIGN_IN_LOCKOUT_MINUTES} minutes."
    )
    expect(page.get_by_role("navigation", name="Main").get_by_text(OWNER)).to_have_count(0)
