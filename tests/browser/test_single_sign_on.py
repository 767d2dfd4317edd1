"""Single sign-on in real Chromium against a real OpenID Connect provider on loopback
(tests/sso/provider/): Tokendesk's button → the provider's own login page → back in
Tokendesk, signed in."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from orgs.models import Organization
from tests.browser.conftest import sign_in
from tests.factories import make_org
from tests.sso.idp import PASSWORD, PROVIDER_NAME, configure, identity_provider  # noqa: F401

pytestmark = pytest.mark.browser


def test_sign_in_with_the_provider(page, settings, identity_provider):  # noqa: F811
    configure(settings, identity_provider.issuer)

    page.goto("/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()

    # The provider's own page, on its own origin.
    expect(page).to_have_url(re.compile(rf"^{re.escape(identity_provider.base)}/login/"))
    expect(page.get_by_role("heading", name="Test Identity Provider")).to_be_visible()
    page.get_by_label("Username").fill("new.person@allowed.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in to the provider").click()

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_text("new.person@allowed.test")).to_be_visible()
    assert User.objects.filter(email="new.person@allowed.test").exists()


def test_an_uninvited_person_reads_why_in_the_browser(page, settings, identity_provider):  # noqa: F811
    configure(settings, identity_provider.issuer)

    page.goto("/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_label("Username").fill("stranger@elsewhere.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in to the provider").click()

    expect(page.get_by_role("heading", name="You cannot sign in here")).to_be_visible()
    expect(page.get_by_text("No account was created.")).to_be_visible()
    assert not User.objects.filter(email="stranger@elsewhere.test").exists()


def test_an_organization_that_requires_sso_sends_a_password_session_through_it(
    page,
    settings,
    identity_provider,  # noqa: F811
):
    make_org("acme", owner="existing@elsewhere.test")
    Organization.objects.filter(slug="acme").update(require_sso=True)
    sign_in(page, "existing@elsewhere.test", "pw-for-tests")
    configure(settings, identity_provider.issuer)

    page.goto("/orgs/acme/")
    expect(page.get_by_role("heading", name="Acme requires single sign-on")).to_be_visible()
    expect(page.get_by_text("personal API tokens keep working")).to_be_visible()
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_label("Username").fill("existing@elsewhere.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in to the provider").click()

    expect(page).to_have_url(re.compile(r"/orgs/acme/$"))
    expect(page.get_by_role("heading", name="Acme requires single sign-on")).to_have_count(0)


def test_an_owner_signed_in_with_sso_requires_it_after_confirming(
    page,
    settings,
    identity_provider,  # noqa: F811
):
    make_org("acme", owner="existing@elsewhere.test")
    configure(settings, identity_provider.issuer)
    page.goto("/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_label("Username").fill("existing@elsewhere.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in to the provider").click()
    expect(
        page.get_by_role("navigation", name="Main").get_by_text("existing@elsewhere.test")
    ).to_be_visible()

    page.goto("/orgs/acme/settings/members/")
    page.get_by_role("button", name="Require single sign-on").click()
    dialog = page.get_by_role("dialog", name="Require single sign-on?")
    expect(dialog.get_by_text("Personal API tokens keep working")).to_be_visible()
    dialog.get_by_role("button", name="Require single sign-on").click()

    expect(page.get_by_text("Acme now requires single sign-on.")).to_be_visible()
    expect(page.get_by_role("button", name="Stop requiring single sign-on")).to_be_visible()
    assert Organization.objects.get(slug="acme").require_sso
