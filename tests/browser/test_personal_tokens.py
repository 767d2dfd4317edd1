"""The personal API tokens page in a real browser (docs/personal-tokens.md), clicked as a
person would."""

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.browser.conftest import expect_modal, sign_in
from tokens.models import Token

pytestmark = pytest.mark.browser

DEV = "dev@acme.test"
TOKEN_RE = re.compile(r"tdk_pat_[0-9A-Za-z]{38}")
SHOTS = Path(tempfile.gettempdir()) / "tokendesk-shots"  # not committed


def masked(plaintext: str) -> str:
    """docs/design.md#token-format: `tdk_<kind>_`, the first 4 characters of the secret,
    `…`, the last 4."""
    return f"tdk_pat_{plaintext[8:12]}…{plaintext[-4:]}"


def whoami(page: Page, plaintext: str):
    return page.request.get("/api/v1/whoami", headers={"Authorization": f"Bearer {plaintext}"})


def personal_tokens(email: str = DEV):
    return Token.objects.personal_for(User.objects.get(email=email))


def open_token_page(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(re.compile(r"/settings/tokens/$"))
    expect(page.get_by_role("heading", name="Personal API tokens", level=1)).to_be_visible()


def expect_no_dialog(page: Page) -> None:
    """No dialog left in the DOM: a closed one is removed (asynchronously, on its `close`
    event), so a shown-once token does not linger in the page."""
    expect(page.locator("dialog")).to_have_count(0)


def create_token(page: Page, label: str) -> str:
    """Create API token → Name → Create; answers the plaintext the dialog shows once."""
    page.get_by_role("button", name="Create API token").click()
    dialog = page.get_by_role("dialog", name="Create API token")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill(label)
    dialog.get_by_role("button", name="Create", exact=True).click()
    shown = page.get_by_role("dialog", name=re.compile("Your new API token"))
    expect(shown).to_be_visible()
    return shown.get_by_label("New token").input_value()


def test_create_copy_use_close_revoke_and_revoke_all(page: Page, demo):
    label = "Release script"
    sign_in(page, DEV)
    open_token_page(page)

    page.get_by_role("button", name="Create API token").click()
    dialog = page.get_by_role("dialog", name="Create API token")
    expect(dialog).to_be_visible()
    expect_modal(dialog)
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    dialog.get_by_label("Name", exact=True).fill(label)
    dialog.get_by_role("button", name="Create", exact=True).click()

    # Shown once, with a warning and a copy button.
    shown = page.get_by_role("dialog", name=f"Your new API token “{label}”")
    expect(shown).to_be_visible()
    expect_modal(shown)
    expect(page.get_by_role("dialog")).to_have_count(1)
    expect(shown).to_contain_text("It will not be shown again")
    plaintext = shown.get_by_label("New token").input_value()
    assert TOKEN_RE.fullmatch(plaintext), plaintext
    shown.get_by_role("button", name="Copy to clipboard").click()
    expect(shown.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext

    # The token works against the API and names itself.
    response = whoami(page, plaintext)
    assert response.status == 200, response.text()
    body = response.json()
    assert body["token"]["name"] == label
    assert body["token"]["kind"] == "personal"
    assert body["token"]["preview"] == masked(plaintext)
    assert body["user"] == {"email": DEV}

    # Closing removes the plaintext from the page; the table shows only the preview.
    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    assert plaintext not in page.content()
    row = page.get_by_role("row").filter(has_text=label)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text(masked(plaintext))
    expect(row).to_contain_text("Active")

    page.reload()
    assert plaintext not in page.content()
    expect(row.get_by_role("cell").nth(1)).to_have_text(masked(plaintext))

    # Revoke that row: confirmation, then the row leaves the table without a page load.
    page.evaluate("window.__sameDocument = true")
    row.get_by_role("button", name=f"Revoke {label}").click()
    confirm = page.get_by_role("dialog", name=f"Revoke “{label}”?")
    expect(confirm).to_be_visible()
    expect_modal(confirm)
    expect(confirm).to_contain_text(masked(plaintext))
    confirm.get_by_role("button", name="Confirm").click()
    expect_no_dialog(page)
    expect(row).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"Token “{label}” revoked")
    assert page.evaluate("window.__sameDocument") is True, "the revoke reloaded the page"
    assert whoami(page, plaintext).status == 401

    # Revoke all: the seeded "Laptop scripts" token is still active.
    expect(page.get_by_role("row").filter(has_text="Laptop scripts")).to_have_count(1)
    page.get_by_role("button", name="Revoke all").click()
    confirm_all = page.get_by_role("dialog", name="Revoke all personal tokens?")
    expect(confirm_all).to_be_visible()
    expect(confirm_all).to_contain_text("all 1 of your personal API tokens")
    confirm_all.get_by_role("button", name="Confirm").click()
    expect_no_dialog(page)
    expect(page.get_by_text("You have no personal API tokens yet.")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True

    tokens = personal_tokens()
    assert tokens.count() == 2
    assert not tokens.unrevoked().exists()
    assert personal_tokens("owner@acme.test").unrevoked().exists(), "only dev's tokens"


def test_dialog_errors_and_escaped_labels(page: Page, demo):
    sign_in(page, DEV)
    open_token_page(page)
    before = personal_tokens().count()

    page.get_by_role("button", name="Create API token").click()
    dialog = page.get_by_role("dialog", name="Create API token")
    dialog.get_by_role("button", name="Create", exact=True).click()
    # The dialog is swapped for one with the error next to the field, still modal.
    label_field = dialog.get_by_label("Name", exact=True)
    expect(label_field).to_have_attribute("aria-invalid", "true")
    expect(label_field).to_have_accessible_description(re.compile("This field is required."))
    expect(dialog.locator("#name-error")).to_have_text("This field is required.")
    expect_modal(dialog)
    expect(page.get_by_role("dialog")).to_have_count(1)
    assert personal_tokens().count() == before

    label = "<b>bold</b>"
    label_field.fill(label)
    dialog.get_by_role("button", name="Create", exact=True).click()
    shown = page.get_by_role("dialog", name=f"Your new API token “{label}”")
    expect(shown).to_be_visible()
    shown.get_by_role("button", name="Close").click()

    expect(page.get_by_role("cell", name=label, exact=True)).to_be_visible()
    expect(page.locator("#token-table b")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("cell", name=label, exact=True)).to_be_visible()
    expect(page.locator("#token-table b")).to_have_count(0)
    assert personal_tokens().filter(name=label).count() == 1


def test_without_javascript_create_and_revoke_work_as_plain_pages(nojs_page: Page, demo):
    page = nojs_page
    label = "No-JS token"
    sign_in(page, DEV)
    open_token_page(page)

    create = page.get_by_role("button", name="Create API token")
    expect(create).to_have_attribute("href", "/settings/tokens/new/")
    create.click()
    expect(page).to_have_url(re.compile(r"/settings/tokens/new/$"))
    dialog = page.get_by_role("dialog", name="Create API token")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name", exact=True).fill(label)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.get_by_role("button", name="Create", exact=True).click()
    assert posted.value.status == 200
    assert "no-store" in posted.value.headers["cache-control"]
    assert posted.value.request.headers.get("hx-request") is None, "a plain form POST"

    shown = page.get_by_role("dialog", name=f"Your new API token “{label}”")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("It will not be shown again")
    plaintext = shown.get_by_label("New token").input_value()
    assert TOKEN_RE.fullmatch(plaintext), plaintext
    assert whoami(page, plaintext).status == 200

    shown.get_by_role("button", name="Close").click()
    expect(page).to_have_url(re.compile(r"/settings/tokens/$"))
    assert plaintext not in page.content()
    row = page.get_by_role("row").filter(has_text=label)
    expect(row.get_by_role("cell").nth(1)).to_have_text(masked(plaintext))

    row.get_by_role("button", name=f"Revoke {label}").click()
    expect(page).to_have_url(re.compile(r"/settings/tokens/\d+/revoke/$"))
    confirm = page.get_by_role("dialog", name=f"Revoke “{label}”?")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        confirm.get_by_role("button", name="Confirm").click()
    assert posted.value.status == 302
    expect(page).to_have_url(re.compile(r"/settings/tokens/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Token “{label}” revoked")
    expect(row).to_have_count(0)

    token = personal_tokens().get(name=label)
    assert token.revoked_at is not None
    assert token.revoked_by.email == DEV
    assert whoami(page, plaintext).status == 401


def test_escape_and_cancel_revoke_nothing(page: Page, demo):
    sign_in(page, DEV)
    open_token_page(page)
    row = page.get_by_role("row").filter(has_text="Laptop scripts")
    revoke = row.get_by_role("button", name="Revoke Laptop scripts")
    confirm = page.get_by_role("dialog", name="Revoke “Laptop scripts”?")

    revoke.click()
    expect(confirm).to_be_visible()
    page.keyboard.press("Escape")
    expect_no_dialog(page)

    revoke.click()
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel").click()
    expect_no_dialog(page)
    expect(page).to_have_url(re.compile(r"/settings/tokens/$"))

    page.get_by_role("button", name="Revoke all").click()
    confirm_all = page.get_by_role("dialog", name="Revoke all personal tokens?")
    expect(confirm_all).to_be_visible()
    page.keyboard.press("Escape")
    expect_no_dialog(page)

    # Nothing was revoked, and the page still works: the row and its Revoke are there.
    expect(row).to_contain_text("Active")
    assert personal_tokens().unrevoked().count() == 1
    page.reload()
    expect(row).to_contain_text("Active")
    revoke.click()
    expect(confirm).to_be_visible()


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})],
)
def test_show_once_dialog_fits_the_screen(page: Page, demo, name, viewport):
    page.set_viewport_size(viewport)
    sign_in(page, DEV)
    open_token_page(page)
    plaintext = create_token(page, "Screenshot token")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"personal-token-shown-{name}.png", animations="disabled")

    width = viewport["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "page scrolls sideways"
    shown = page.get_by_role("dialog", name=re.compile("Your new API token"))
    for part in ("article", "#new-token-value", "button[data-copy-target]", "footer a"):
        box = shown.locator(part).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, part
    # The whole token is visible in its field, not cut off at the edge.
    field = shown.get_by_label("New token")
    assert field.evaluate("f => f.scrollWidth <= f.clientWidth"), "the token is cut off"
    assert field.input_value() == plaintext
