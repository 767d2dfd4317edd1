"""The database going away mid-visit, in a real browser: the page says so in the app's look
and how to go on, and the same link works again once the database is back."""

import tempfile
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "tokendesk-shots"  # not committed


def test_an_outage_shows_the_503_page_and_try_again_recovers(page, demo):
    sign_in(page, "owner@acme.test")
    # The live server runs in this process: every session read now fails as if the
    # database had stopped.
    outage = mock.patch.object(SessionStore, "load", side_effect=OperationalError("refused"))
    with outage:
        response = page.goto("/orgs/acme/")
        assert response.status == 503
        assert int(response.headers["retry-after"]) > 0
        expect(page.get_by_role("heading", name="Tokendesk is unavailable")).to_be_visible()
        expect(page).to_have_title("Unavailable · Tokendesk")
        # The app's stylesheet applied: the layout's container, not an unstyled page.
        assert (
            page.locator("main.container").evaluate("e => getComputedStyle(e).maxWidth") != "none"
        )
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "unavailable.png"), full_page=True)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Acme", exact=False).first).to_be_visible()
    assert page.url.endswith("/orgs/acme/")


def test_an_outage_during_an_htmx_click_shows_the_503_page(page, demo):
    sign_in(page, "owner@acme.test")
    page.goto("/orgs/acme/")
    with mock.patch.object(SessionStore, "load", side_effect=OperationalError("refused")):
        page.get_by_role("button", name="New project").click()
        expect(page.get_by_role("heading", name="Tokendesk is unavailable")).to_be_visible()
    # The whole page, not a page inside the dialog slot: one layout, one main navigation.
    expect(page.locator("#dialog-slot #unavailable")).to_have_count(0)
    expect(page.locator("header nav")).to_have_count(1)
