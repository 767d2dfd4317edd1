"""A signed-out visitor finds the CLI from the footer, copies the CI step and downloads the
zipapp whose hash the page shows."""

import hashlib
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_visitor_copies_the_ci_step_and_downloads_the_cli(page, live_server):
    page.goto("/accounts/login/")
    page.get_by_role("contentinfo").get_by_role("link", name="CLI").click()

    expect(page.get_by_role("heading", name="Command-line client")).to_be_visible()
    shown_hash = page.locator("code.sha256").first.inner_text()

    page.get_by_role("button", name="Copy to clipboard").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert 'curl -fsSLO "$TOKENDESK_URL/cli/tokendesk.pyz"' in copied
    assert f"TOKENDESK_URL: {live_server.url}\n" in copied
    assert f"{shown_hash}  tokendesk.pyz" in copied
    expect(page.get_by_role("button", name="Copied!")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="tokendesk.pyz", exact=True).click()
    download = download_info.value
    assert download.suggested_filename == "tokendesk.pyz"
    assert hashlib.sha256(open(download.path(), "rb").read()).hexdigest() == shown_hash  # noqa: SIM115


def test_the_page_works_without_javascript(nojs_page):
    nojs_page.goto("/cli/")

    expect(nojs_page.get_by_role("heading", name="GitHub Actions")).to_be_visible()
    expect(nojs_page.get_by_label("GitHub Actions step")).to_contain_text("sha256sum -c -")


def test_a_visitor_copies_the_trusted_publishing_job(page, live_server):
    page.goto("/cli/")
    section = page.get_by_role("heading", name="Without a stored secret: trusted publishing")
    expect(section).to_be_visible()
    job = page.get_by_label("GitHub Actions job with trusted publishing")
    job.locator("xpath=following-sibling::button[1]").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "id-token: write" in copied
    assert "python3 tokendesk.pyz deploy acme/web --oidc" in copied
    assert "secrets." not in copied
    page.get_by_role("link", name="trusted publishing guide").click()
    expect(
        page.get_by_role("heading", name=re.compile("Trusted publishing", re.I)).first
    ).to_be_visible()
