"""The pages with the keyboard alone: a skip link first, a visible focus ring, focus back on
the control that opened a dialog when it closes (or on the next row's first action when the
row went away), and Escape closes every dialog."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import expect_modal, sign_in

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
MAX_TABS = 60


def tab_to(page: Page, target: Locator) -> int:
    """Press Tab until `target` has the focus; answers how many presses it took."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{target} never got the focus in {MAX_TABS} Tabs")


def test_the_skip_link_is_the_first_stop_and_skips_the_navigation(page: Page, demo):
    sign_in(page, OWNER)
    page.goto("/settings/tokens/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # From the top of the content, the page's first action is a few Tabs away, not 8.
    assert tab_to(page, page.get_by_role("button", name="Create API token")) <= 3


def test_the_focus_ring_is_visible_on_every_kind_of_button(page: Page, demo):
    sign_in(page, OWNER)
    page.goto("/orgs/acme/settings/tokens/")
    kinds = {
        "primary": page.get_by_role("main").get_by_role("button", name="Create token"),
        "outline secondary": page.get_by_role("button", name="Reset GitHub Actions"),
        "link": page.get_by_role("main").get_by_role("link", name="Show revoked"),
    }
    for kind, control in kinds.items():
        tab_to(page, control)
        ring = control.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }"
        )
        style, width, colour = ring
        assert style == "solid" and width >= 2, (kind, ring)
        red, green, blue = (int(part) for part in re.findall(r"\d+", colour)[:3])
        assert contrast((red, green, blue), (255, 255, 255)) >= 3, (kind, colour)


def contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(rgb):
        def channel(value):
            value /= 255
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(value) for value in rgb)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_create_copy_close_returns_focus_to_create(page: Page, demo):
    sign_in(page, OWNER)
    page.goto("/settings/tokens/")
    create = page.get_by_role("button", name="Create API token")
    tab_to(page, create)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Create API token")
    expect_modal(dialog)
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    page.keyboard.type("Keyboard only")
    tab_to(page, dialog.get_by_role("button", name="Create", exact=True))
    page.keyboard.press("Enter")

    shown = page.get_by_role("dialog", name=re.compile("Your new API token"))
    expect_modal(shown)
    plaintext = shown.get_by_label("New token").input_value()
    tab_to(page, shown.get_by_role("button", name="Copy to clipboard"))
    page.keyboard.press("Enter")
    expect(shown.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    tab_to(page, shown.get_by_role("button", name="Close"))
    page.keyboard.press("Enter")
    expect(page.locator("dialog")).to_have_count(0)
    expect(create).to_be_focused()
    expect(page.get_by_role("cell", name="Keyboard only", exact=True)).to_be_visible()


def test_revoke_confirm_moves_focus_to_the_next_row(page: Page, demo):
    sign_in(page, OWNER)
    page.goto("/orgs/acme/settings/tokens/")
    rows = page.locator("#token-table tbody tr")
    expect(rows).to_have_count(2)
    first, second = rows.nth(0), rows.nth(1)
    first_name = first.locator("td").first.inner_text().strip()
    second_id = second.get_attribute("id")

    revoke = first.get_by_role("button", name=re.compile("^Revoke"))
    tab_to(page, revoke)
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name=re.compile("Revoke"))
    expect_modal(confirm)
    tab_to(page, confirm.get_by_role("button", name="Revoke", exact=True))
    page.keyboard.press("Enter")

    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("cell", name=first_name, exact=True)).to_have_count(0)
    # The row is gone from the active list: the next row's first action has the focus.
    successor = page.locator(f"#{second_id} td.actions").get_by_role("button").first
    expect(successor).to_be_focused()


def test_cancel_returns_focus_to_the_rows_button(page: Page, demo):
    sign_in(page, OWNER)
    page.goto("/orgs/acme/settings/tokens/")
    reset = page.get_by_role("button", name="Reset GitHub Actions")
    tab_to(page, reset)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect_modal(dialog)
    tab_to(page, dialog.get_by_role("button", name="Cancel"))
    page.keyboard.press("Enter")
    expect(page.locator("dialog")).to_have_count(0)
    expect(reset).to_be_focused()


# Every dialog a keyboard can open, as the owner: (page, the control that opens it).
DIALOGS = [
    ("/settings/tokens/", "Create API token"),
    ("/settings/tokens/", "Revoke Release checklist"),
    ("/settings/tokens/", "Rotate Release checklist"),
    ("/settings/tokens/", "Revoke all"),
    ("/orgs/acme/settings/tokens/", "Create token"),
    ("/orgs/acme/settings/tokens/", "Reset GitHub Actions"),
    ("/orgs/acme/settings/tokens/", "Revoke GitHub Actions"),
    ("/orgs/acme/settings/tokens/", "Rotate GitHub Actions"),
    ("/orgs/acme/projects/web/settings/deployment-tokens/", "Generate deployment token"),
    ("/orgs/acme/projects/web/settings/deployment-tokens/", re.compile(r"^Revoke web deploy")),
    ("/orgs/acme/settings/deploy-auth/", "Revoke Legacy deploy server"),
    ("/orgs/acme/", "New project"),
    ("/orgs/acme/settings/members/", "Add member"),
]


def test_escape_closes_every_dialog_and_focus_returns(page: Page, demo):
    sign_in(page, OWNER)
    current = None
    for url, opener_name in DIALOGS:
        if url != current:
            page.goto(url)
            current = url
        exact = isinstance(opener_name, str)
        opener = page.get_by_role("main").get_by_role("button", name=opener_name, exact=exact)
        tab_to(page, opener)
        page.keyboard.press("Enter")
        dialog = page.locator("dialog")
        expect_modal(dialog)
        page.keyboard.press("Escape")
        expect(page.locator("dialog")).to_have_count(0)
        expect(opener).to_be_focused()
