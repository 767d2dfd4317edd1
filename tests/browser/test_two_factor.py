"""Two-factor sign-in as a person does it: enrol an authenticator app (codes computed with
pyotp from the secret the page shows), sign out, sign in with a code, use a recovery code
once; enrol a security key with Chromium's virtual authenticator and sign in with it."""

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser

DEV = "dev@acme.test"


def sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_text(DEV).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Tokendesk")).to_be_visible()


def fresh_code(totp: pyotp.TOTP) -> str:
    """A code with a few seconds of its window left, so it is not stale when it arrives."""
    if totp.interval - time.time() % totp.interval < 3:
        time.sleep(3)
    return totp.now()


def password_step(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(DEV)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()


def test_totp_enrol_sign_in_and_a_recovery_code_once(page: Page, demo):
    sign_in(page, DEV)
    page.get_by_role("navigation", name="Main").get_by_text(DEV).click()
    page.get_by_role("link", name="Security", exact=True).click()
    page.get_by_role("button", name="Set up authenticator app").click()

    secret = page.get_by_label("Authenticator secret").input_value()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Authenticator code").fill(fresh_code(totp))
    page.get_by_role("button", name="Activate").click()

    # The recovery codes, shown once.
    codes = page.get_by_label("Unused codes").input_value().split()
    assert len(codes) == 10
    page.goto("/settings/security/")
    row = page.get_by_role("row", name="Authenticator app")
    expect(row.get_by_text("on", exact=True)).to_be_visible()

    sign_out(page)
    password_step(page)
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    page.get_by_label("Authentication code").fill(fresh_code(totp))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main").get_by_text(DEV)).to_be_visible()

    sign_out(page)
    password_step(page)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main").get_by_text(DEV)).to_be_visible()

    sign_out(page)
    password_step(page)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_text(DEV)).to_have_count(0)


def test_a_security_key_enrolled_then_used_to_sign_in(page: Page, demo, live_server):
    assert live_server.url.startswith("http://localhost:")  # a WebAuthn relying-party id
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    authenticator = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    sign_in(page, DEV)
    page.goto("/settings/security/")
    page.get_by_role("button", name="Add security key").click()
    page.get_by_label("Name").fill("Desk key")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Security key added.")).to_be_visible()
    credentials = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1

    page.goto("/settings/security/")
    expect(page.get_by_role("row", name="Security key “Desk key”")).to_be_visible()

    sign_out(page)
    password_step(page)
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_role("navigation", name="Main").get_by_text(DEV)).to_be_visible()
