"""Require two-factor authentication, in a real browser (issue 11 §3): an owner turns it on
through its confirmation; a member without a second factor signs in and is shown only the
page asking them to enrol, which links to the security settings."""

import re

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from accounts.models import User
from orgs.models import AuditEvent, Organization
from tests.browser.conftest import _new_context, _page_watching_errors, sign_in

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
DEV = "dev@acme.test"


@pytest.fixture
def member(browser, live_server):
    context = _new_context(browser, live_server)
    page = _page_watching_errors(context)
    yield page
    context.close()
    assert not page.js_errors and not page.csp_violations


def test_an_unenrolled_member_sees_only_the_enrol_page(page: Page, member: Page, demo):
    sign_in(page, OWNER)
    # The owner has an authenticator app (added after signing in, so no code is asked).
    Authenticator.objects.create(
        user=User.objects.get(email=OWNER), type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    page.goto("/orgs/acme/settings/members/")
    panel = page.get_by_role("region", name="Two-factor authentication")
    expect(panel).to_contain_text("Not required.")
    panel.get_by_role("button", name="Require two-factor authentication").click()
    dialog = page.get_by_role("dialog", name="Require two-factor authentication?")
    expect(dialog).to_contain_text("2 members without a second factor")
    expect(dialog).to_contain_text("Personal API tokens keep working.")
    dialog.get_by_role("button", name="Require two-factor authentication").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Acme Inc now requires two-factor")
    expect(panel).to_contain_text("Required.")
    assert Organization.objects.get(slug="acme").require_two_factor
    assert AuditEvent.objects.filter(action="org.two_factor_policy").count() == 1

    sign_in(member, DEV)
    member.get_by_role("navigation", name="Main").get_by_role("link", name="Acme Inc").click()
    expect(member).to_have_url(re.compile(r"/orgs/acme/two-factor-required/$"))
    expect(
        member.get_by_role("heading", name="Acme Inc requires two-factor authentication")
    ).to_be_visible()
    expect(member.get_by_role("main")).to_contain_text("Your personal API tokens keep working")
    member.goto("/orgs/acme/projects/web/settings/deployment-tokens/")
    expect(member).to_have_url(re.compile(r"/orgs/acme/two-factor-required/$"))
    member.get_by_role("button", name="Set up two-factor authentication").click()
    expect(member).to_have_url(re.compile(r"/settings/security/$"))
