"""Bringing a person in, in a real browser (issue 11 §2): an owner invites by e-mail, the
invitee follows the e-mailed link, sets a password and lands in the organization; an
invitation is revoked through its confirmation dialog and its link stops working."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import User
from orgs.models import Invitation, Membership, Project
from tests.browser.conftest import _new_context, _page_watching_errors, sign_in

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
NEWCOMER = "newcomer@example.test"
PASSWORD = "a brand new passphrase 7"
LINK_RE = re.compile(r"https?://[^/\s]+(/invitations/[A-Za-z0-9_-]{43}/)")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


@pytest.fixture
def invitee(browser, live_server):
    """A second person with their own browser (cookies not shared with the owner's)."""
    context = _new_context(browser, live_server)
    page = _page_watching_errors(context)
    yield page
    context.close()
    assert not page.js_errors, f"uncaught JavaScript errors: {page.js_errors}"
    assert not page.csp_violations, f"Content-Security-Policy violations: {page.csp_violations}"


def open_members(page: Page) -> None:
    page.goto("/orgs/acme/")
    page.get_by_role("navigation", name="Acme Inc").get_by_role("link", name="Members").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/members/$"))


def pending(page: Page):
    return page.get_by_role("region", name="Pending invitations")


def mailed_link(to: str) -> str:
    (message,) = [message for message in mail.outbox if message.to == [to]]
    return LINK_RE.search(message.body)[1]


def test_an_invited_person_sets_a_password_and_lands_in_the_org(page: Page, invitee: Page, demo):
    sign_in(page, OWNER)
    open_members(page)
    page.get_by_role("button", name="Invite by e-mail").click()
    dialog = page.get_by_role("dialog", name="Invite by e-mail")
    dialog.get_by_label("E-mail").fill(NEWCOMER)
    dialog.get_by_label("Role").select_option(label="Member")
    dialog.get_by_label("acme/web").check()
    dialog.get_by_role("button", name="Send invitation").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {NEWCOMER}")
    row = pending(page).get_by_role("row").filter(has_text=NEWCOMER)
    expect(row).to_contain_text("Member")
    expect(row).to_contain_text("maintainer of web")
    expect(row).to_contain_text(OWNER)

    invitee.goto(mailed_link(NEWCOMER))
    expect(invitee.get_by_role("heading", name="Join Acme Inc")).to_be_visible()
    expect(invitee.get_by_role("main")).to_contain_text(f"{OWNER} invited {NEWCOMER}")
    invitee.get_by_label("Password", exact=True).fill("password")
    invitee.get_by_label("Password again").fill("password")
    invitee.get_by_role("button", name="Create account and join").click()
    expect(invitee.get_by_text("This password is too common.")).to_be_visible()
    invitee.get_by_label("Password", exact=True).fill(PASSWORD)
    invitee.get_by_label("Password again").fill(PASSWORD)
    invitee.get_by_role("button", name="Create account and join").click()

    expect(invitee).to_have_url(re.compile(r"/orgs/acme/$"))
    expect(invitee.get_by_role("status")).to_contain_text("Welcome to Acme Inc: you are a member.")
    expect(invitee.get_by_role("navigation", name="Main").get_by_text(NEWCOMER)).to_be_visible()
    expect(invitee.get_by_role("heading", name="Acme Inc", level=1)).to_be_visible()
    newcomer = User.objects.get(email=NEWCOMER)
    assert Membership.objects.get(user=newcomer).role == "member"
    assert list(Project.objects.get(slug="web").maintainers.filter(pk=newcomer.pk)) == [newcomer]

    # The link was single use; the owner's list no longer shows it as pending.
    invitee.goto(mailed_link(NEWCOMER))
    expect(invitee.get_by_role("heading", name="This invitation was already used")).to_be_visible()
    page.reload()
    expect(pending(page)).to_contain_text("No pending invitations.")
    expect(page.get_by_role("row").filter(has_text=NEWCOMER)).to_have_count(1)


def test_an_unknown_address_is_invited_from_add_member_then_revoked(
    page: Page, invitee: Page, demo
):
    sign_in(page, OWNER)
    open_members(page)
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="Add a member")
    dialog.get_by_label("E-mail").fill(NEWCOMER)
    dialog.get_by_role("button", name="Add member").click()
    offer = page.get_by_role("dialog", name="Invite by e-mail")
    expect(offer).to_contain_text("No Tokendesk account uses that e-mail yet.")
    expect(offer.get_by_label("E-mail")).to_have_value(NEWCOMER)
    offer.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {NEWCOMER}")
    link = mailed_link(NEWCOMER)

    pending(page).get_by_role("button", name=f"Revoke the invitation to {NEWCOMER}").click()
    confirm = page.get_by_role("dialog", name=f"Revoke the invitation to {NEWCOMER}?")
    expect(confirm).to_contain_text("The link stops working at once.")
    confirm.get_by_role("button", name="Revoke invitation").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"Invitation to {NEWCOMER} revoked")
    expect(pending(page).get_by_role("row").filter(has_text=NEWCOMER)).to_have_count(0)
    assert not Invitation.objects.open().exists()

    response = invitee.goto(link)
    assert response.status == 410
    expect(invitee.get_by_role("heading", name="This invitation was revoked")).to_be_visible()
    assert not User.objects.filter(email=NEWCOMER).exists()


def test_a_link_opened_while_signed_in_as_someone_else(page: Page, invitee: Page, demo):
    sign_in(page, OWNER)
    open_members(page)
    page.get_by_role("button", name="Invite by e-mail").click()
    dialog = page.get_by_role("dialog", name="Invite by e-mail")
    dialog.get_by_label("E-mail").fill(NEWCOMER)
    dialog.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {NEWCOMER}")

    sign_in(invitee, "dev@acme.test")
    response = invitee.goto(mailed_link(NEWCOMER))
    assert response.status == 403
    expect(invitee.get_by_role("main")).to_contain_text("You are signed in as dev@acme.test")
    invitee.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(invitee.get_by_role("button", name="Create account and join")).to_be_visible()
    assert invitee.url.endswith(mailed_link(NEWCOMER))


def test_inviting_and_revoking_without_javascript(nojs_page: Page, demo):
    page = nojs_page
    sign_in(page, OWNER)
    open_members(page)
    page.get_by_role("button", name="Invite by e-mail").click()
    expect(page).to_have_url(re.compile(r"/settings/members/invite/$"))
    dialog = page.get_by_role("dialog", name="Invite by e-mail")
    dialog.get_by_label("E-mail").fill(NEWCOMER)
    dialog.get_by_role("button", name="Send invitation").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/members/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {NEWCOMER}")
    pending(page).get_by_role("button", name=f"Revoke the invitation to {NEWCOMER}").click()
    confirm = page.get_by_role("dialog", name=f"Revoke the invitation to {NEWCOMER}?")
    confirm.get_by_role("button", name="Revoke invitation").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/members/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Invitation to {NEWCOMER} revoked")
    expect(pending(page)).to_contain_text("No pending invitations.")
