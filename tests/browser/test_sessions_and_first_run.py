"""The session list with "Sign out other sessions", and the first-run note of an install
that has no users yet."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import _new_context, sign_in

pytestmark = pytest.mark.browser

DEV = "dev@acme.test"


def test_sign_out_other_sessions(page: Page, demo, browser, live_server):
    phone = _new_context(browser, live_server, user_agent="Mozilla/5.0 (iPhone) Safari/604.1")
    phone_page = phone.new_page()
    sign_in(phone_page, DEV)
    sign_in(page, DEV)

    page.goto("/settings/security/")
    sessions = page.get_by_role("region", name="Signed-in sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)  # the header and two sessions
    expect(sessions.get_by_role("row", name="Safari on iOS")).to_be_visible()
    expect(sessions.get_by_role("row", name="this browser")).to_be_visible()
    sessions.get_by_role("button", name="Sign out other sessions").click()
    expect(page.get_by_text("Signed out 1 other session.")).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)

    phone_page.goto("/settings/tokens/")
    expect(phone_page.get_by_role("heading", name="Sign in to Tokendesk")).to_be_visible()
    phone.close()


def test_a_fresh_install_says_what_to_run(page: Page):
    page.goto("/")
    note = page.get_by_role("note")
    expect(note.get_by_role("heading", name="Nobody can sign in yet")).to_be_visible()
    expect(note.locator("code").first).to_have_text(
        'python manage.py bootstrap --email you@example.com --org "Your organization"'
    )
