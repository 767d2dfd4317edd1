"""Organization pages in a real browser (docs/ci-tokens.md, docs/deployment-tokens.md,
docs/design.md): CI tokens, deployment tokens, members and projects, clicked as a person
would, checked against the DOM, the database and the API."""

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from orgs.models import Membership, Project
from tests.browser.conftest import expect_modal, sign_in
from tokens.models import Token

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
ADMIN = "admin@acme.test"
DEV = "dev@acme.test"
CI_TOKEN_RE = re.compile(r"tdk_ci_[0-9A-Za-z]{38}")
DEP_TOKEN_RE = re.compile(r"tdk_dep_[0-9A-Za-z]{38}")
SHOTS = Path(tempfile.gettempdir()) / "tokendesk-shots"  # not committed
CI_URL = "/orgs/acme/settings/tokens/"
WEB_DEPLOYMENT_URL = "/orgs/acme/projects/web/settings/deployment-tokens/"
API_DEPLOYMENT_URL = "/orgs/acme/projects/api/settings/deployment-tokens/"
VIEWPORTS = [("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})]


# Helpers ---------------------------------------------------------------------------------


def masked(plaintext: str) -> str:
    """docs/design.md#token-format: `tdk_<kind>_`, the first 4 characters of the secret,
    `…`, the last 4."""
    prefix = plaintext[: plaintext.index("_", 4) + 1]
    secret = plaintext[len(prefix) :]
    return f"{prefix}{secret[:4]}…{plaintext[-4:]}"


def whoami(page: Page, plaintext: str):
    return page.request.get("/api/v1/whoami", headers={"Authorization": f"Bearer {plaintext}"})


def expect_no_dialog(page: Page) -> None:
    """A closed dialog is removed from the DOM (with it any token shown once)."""
    expect(page.locator("dialog")).to_have_count(0)


def mark_document(page: Page) -> None:
    """Set a flag that survives HTMX swaps but not a page load."""
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"


def org_tabs(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Acme Inc")


def open_org(page: Page) -> None:
    """Dashboard → the organization's name."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("main").get_by_role("link", name="Acme Inc").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/$"))
    expect(page.get_by_role("heading", name="Acme Inc", level=1)).to_be_visible()


def open_ci_tokens(page: Page) -> None:
    open_org(page)
    org_tabs(page).get_by_role("link", name="CI tokens").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/tokens/$"))
    expect(page.get_by_role("heading", name="CI / integration tokens")).to_be_visible()


def open_web_deployment_tokens(page: Page) -> None:
    open_org(page)
    row = page.get_by_role("row").filter(has_text="acme/web")
    row.get_by_role("link", name="Deployment tokens").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/projects/web/settings/deployment-tokens/$"))
    expect(page.get_by_role("heading", name="Deployment tokens · Web")).to_be_visible()


def open_create_dialog(page: Page) -> Locator:
    page.get_by_role("main").get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="New integration token")
    expect(dialog).to_be_visible()
    return dialog


def shown_token(page: Page, title: str | re.Pattern) -> tuple[Locator, str]:
    """The show-once dialog: its locator and the plaintext it shows."""
    shown = page.get_by_role("dialog", name=title)
    expect(shown).to_be_visible()
    expect_modal(shown)
    expect(shown).to_contain_text("It will not be shown again")
    return shown, shown.get_by_label("New token").input_value()


def create_ci_token(page: Page, label: str, role: str = "CI token") -> str:
    dialog = open_create_dialog(page)
    dialog.get_by_label("Name", exact=True).fill(label)
    dialog.get_by_label("Role", exact=True).select_option(label=role)
    dialog.get_by_role("button", name="Create token").click()
    shown, plaintext = shown_token(page, f"Your new CI token “{label}”")
    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    return plaintext


def ci_tokens():
    return Token.objects.filter(kind=Token.Kind.CI, organization__slug="acme")


def web_tokens():
    return Token.objects.filter(kind=Token.Kind.DEPLOYMENT, project__slug="web")


# CI tokens -------------------------------------------------------------------------------


def test_ci_token_create_copy_use_reset_and_revoke(page: Page, demo):
    label = "GitLab CI: acme/api"
    description = "Runs the nightly read-only export"
    sign_in(page, ADMIN)
    open_ci_tokens(page)

    # Create token: the dialog opens as a modal with "CI token" preselected.
    dialog = open_create_dialog(page)
    expect_modal(dialog)
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    role = dialog.get_by_label("Role", exact=True)
    expect(role).to_have_value("ci")
    assert role.evaluate("s => s.selectedOptions[0].textContent.trim()") == "CI token"
    dialog.get_by_label("Name", exact=True).fill(label)
    dialog.get_by_label("Description (optional)").fill(description)
    role.select_option(label="Read only")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.get_by_role("button", name="Create token").click()
    assert posted.value.status == 200
    assert "no-store" in posted.value.headers["cache-control"]

    # Shown once, with the warning; copied to the clipboard.
    shown, plaintext = shown_token(page, f"Your new CI token “{label}”")
    assert CI_TOKEN_RE.fullmatch(plaintext), plaintext
    expect(page.get_by_role("dialog")).to_have_count(1)
    shown.get_by_role("button", name="Copy to clipboard").click()
    expect(shown.get_by_role("button", name="Copied!")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext

    response = whoami(page, plaintext)
    assert response.status == 200, response.text()
    body = response.json()
    assert body["token"]["kind"] == "ci"
    assert body["token"]["role"] == "read_only"
    assert body["token"]["org"] == "acme"
    assert body["token"]["name"] == label
    assert body["token"]["description"] == description
    assert body["token"]["preview"] == masked(plaintext)
    assert body["user"] is None, "a CI token belongs to the organization, not its creator"
    token_id = body["token"]["id"]

    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    assert plaintext not in page.content()
    row = page.locator(f"#token-{token_id}")
    expect(row).to_have_count(1)
    cells = row.get_by_role("cell")
    expect(cells.nth(0)).to_contain_text(label)
    expect(cells.nth(0)).to_contain_text(description)
    expect(cells.nth(1)).to_have_text(masked(plaintext))
    expect(cells.nth(2)).to_have_text("Read only")
    expect(cells.nth(3)).to_have_text(ADMIN)
    expect(row).to_contain_text("Active")

    # Reset: a warning first, then a new secret shown once; the old one stops at once.
    mark_document(page)
    row.get_by_role("button", name=f"Reset {label}").click()
    confirm = page.get_by_role("dialog", name=f"Reset “{label}”?")
    expect(confirm).to_be_visible()
    expect_modal(confirm)
    expect(confirm).to_contain_text("may break any integrations and automation using it")
    expect(confirm).to_contain_text(masked(plaintext))
    confirm.get_by_role("button", name="Reset token").click()
    shown, new_plaintext = shown_token(page, f"Your new CI token “{label}”")
    assert CI_TOKEN_RE.fullmatch(new_plaintext), new_plaintext
    assert new_plaintext != plaintext
    assert whoami(page, plaintext).status == 401
    response = whoami(page, new_plaintext)
    assert response.status == 200, response.text()
    body = response.json()["token"]
    assert (body["id"], body["name"], body["role"]) == (token_id, label, "read_only")
    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    expect(page.get_by_role("row").filter(has_text=label)).to_have_count(1)
    expect(cells.nth(0)).to_contain_text(label)
    expect(cells.nth(1)).to_have_text(masked(new_plaintext))
    assert_same_document(page)
    plaintext = new_plaintext

    # Revoke: a warning, then the row leaves the table without a page load.
    row.get_by_role("button", name=f"Revoke {label}").click()
    confirm = page.get_by_role("dialog", name=f"Revoke “{label}”?")
    expect(confirm).to_be_visible()
    expect_modal(confirm)
    expect(confirm).to_contain_text("may break any integrations and automation using it")
    confirm.get_by_role("button", name="Revoke", exact=True).click()
    expect_no_dialog(page)
    expect(row).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"Token “{label}” revoked.")
    assert_same_document(page)
    assert whoami(page, plaintext).status == 401
    token = ci_tokens().get(pk=token_id)
    assert token.revoked_at is not None
    assert token.revoked_by.email == ADMIN
    expect(page.get_by_role("row").filter(has_text="GitHub Actions")).to_have_count(1)

    # Show revoked: listed, greyed out, with who revoked it.
    page.get_by_role("navigation", name="Token filter").get_by_role(
        "link", name="Show revoked"
    ).click()
    expect(page).to_have_url(re.compile(r"\?show=revoked$"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Revoked")
    expect(row).to_contain_text(f"by {ADMIN}")
    expect(row.get_by_role("button")).to_have_count(0)
    # Greyed out in the muted text colour (not with opacity, which would fail contrast).
    colours = cells.nth(0).evaluate(
        "cell => [getComputedStyle(cell).color, getComputedStyle(document.body).color]"
    )
    assert colours[0] != colours[1], "a revoked row is greyed out"
    expect(page.get_by_role("row").filter(has_text="GitHub Actions")).to_have_count(0)


def test_ci_token_custom_role_needs_a_permission(page: Page, demo):
    label = "Deploy watcher"
    sign_in(page, OWNER)
    open_ci_tokens(page)
    before = ci_tokens().count()

    dialog = open_create_dialog(page)
    dialog.get_by_label("Name", exact=True).fill(label)
    dialog.get_by_label("Role", exact=True).select_option(label="Custom")
    # Choosing Custom shows the permission list it needs.
    expect(dialog.get_by_role("checkbox", name=re.compile(r"^deployments:read"))).to_be_visible()
    dialog.get_by_role("button", name="Create token").click()

    permissions = dialog.get_by_role("group", name="Permissions (custom role)")
    error = "Pick at least one permission for a custom role."
    expect(permissions).to_be_visible()
    expect(permissions).to_have_accessible_description(error)
    expect(dialog.locator("#permissions-error")).to_have_text(error)
    expect_modal(dialog)
    expect(page.get_by_role("dialog")).to_have_count(1)
    # What was typed and chosen survives the error.
    expect(dialog.get_by_label("Name", exact=True)).to_have_value(label)
    expect(dialog.get_by_label("Role", exact=True)).to_have_value("custom")
    assert ci_tokens().count() == before
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "ci-create-custom-error.png", animations="disabled")

    dialog.get_by_role("checkbox", name=re.compile(r"^deployments:read")).check()
    dialog.get_by_role("button", name="Create token").click()
    shown, plaintext = shown_token(page, f"Your new CI token “{label}”")
    assert CI_TOKEN_RE.fullmatch(plaintext), plaintext
    body = whoami(page, plaintext).json()["token"]
    assert body["role"] == "custom"
    assert body["permissions"] == ["deployments:read"]
    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    row = page.get_by_role("row").filter(has_text=label)
    expect(row.get_by_role("cell").nth(2)).to_have_text("Custom")
    assert ci_tokens().count() == before + 1


# Deployment tokens -----------------------------------------------------------------------


def test_deployment_tokens_as_project_maintainer(page: Page, demo):
    sign_in(page, DEV)
    open_org(page)

    # The projects page offers deployment tokens for web (dev maintains it), not for api.
    web_row = page.get_by_role("row").filter(has_text="acme/web")
    api_row = page.get_by_role("row").filter(has_text="acme/api")
    expect(web_row.get_by_role("link", name="Deployment tokens")).to_be_visible()
    expect(api_row).to_have_count(1)
    expect(api_row.get_by_role("link", name="Deployment tokens")).to_have_count(0)
    # A member neither manages projects nor sees CI tokens.
    expect(page.get_by_role("button", name="New project")).to_have_count(0)
    expect(org_tabs(page).get_by_role("link", name="Projects")).to_be_visible()
    expect(org_tabs(page).get_by_role("link", name="Members")).to_be_visible()
    expect(page.get_by_role("link", name="CI tokens")).to_have_count(0)

    open_web_deployment_tokens(page)
    expect(org_tabs(page).get_by_role("link", name="CI tokens")).to_have_count(0)
    before = web_tokens().unrevoked().count()
    mark_document(page)
    page.get_by_role("button", name="Generate deployment token").click()
    generate = page.get_by_role("dialog", name="New deployment token for Web")
    expect(generate).to_be_visible()
    expect(generate.get_by_label("Name (optional)")).to_be_focused()
    expect(generate.get_by_label("Expiration")).to_have_value("30")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        generate.get_by_role("button", name="Generate token").click()
    assert posted.value.status == 200
    assert "no-store" in posted.value.headers["cache-control"]
    shown, plaintext = shown_token(page, "New deployment token for Web")
    assert DEP_TOKEN_RE.fullmatch(plaintext), plaintext
    shown.get_by_role("button", name="Copy to clipboard").click()
    assert page.evaluate("navigator.clipboard.readText()") == plaintext
    body = whoami(page, plaintext).json()["token"]
    assert (body["kind"], body["project"]) == ("deployment", "acme/web")
    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    assert plaintext not in page.content()

    # The table lists the masked preview only.
    row = page.get_by_role("row").filter(has_text=masked(plaintext))
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(0)).to_have_text(re.compile(r"^web deploy \d{4}-"))
    expect(row.get_by_role("cell").nth(1)).to_have_text(masked(plaintext))
    expect(row.get_by_role("cell").nth(2)).to_have_text(DEV)
    assert web_tokens().unrevoked().count() == before + 1

    # The trash button → confirmation → Revoke: the row is gone, the token revoked.
    row.get_by_role(
        "button", name=re.compile(rf"^Revoke web deploy .* \({re.escape(masked(plaintext))}\)$")
    ).click()
    confirm = page.get_by_role("dialog", name="Revoke deployment token?")
    expect(confirm).to_be_visible()
    expect_modal(confirm)
    expect(confirm).to_contain_text(masked(plaintext))
    expect(confirm).to_contain_text("no active automation still depends on this token")
    confirm.get_by_role("button", name="Revoke", exact=True).click()
    expect_no_dialog(page)
    expect(row).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"Token {masked(plaintext)} revoked.")
    assert_same_document(page)
    token = web_tokens().get(preview=masked(plaintext))
    assert token.revoked_at is not None
    assert token.revoked_by.email == DEV
    assert whoami(page, plaintext).status == 401
    assert web_tokens().unrevoked().count() == before

    # Pages dev may not manage do not exist for dev.
    for url in (CI_URL, API_DEPLOYMENT_URL, "/orgs/acme/settings/tokens/new/"):
        response = page.goto(url)
        assert response.status == 404, url
    response = page.goto(WEB_DEPLOYMENT_URL)
    assert response.status == 200


def test_missing_salt_shows_a_configuration_error_and_issues_nothing(page: Page, demo, settings):
    settings.TOKEN_HASH_SALT = ""  # after seed_demo, which needs it
    sign_in(page, OWNER)
    tokens_before = Token.objects.count()

    open_web_deployment_tokens(page)
    banner = page.get_by_role("main").get_by_role("alert")
    expect(banner).to_contain_text("TOKEN_HASH_SALT")
    page.get_by_role("button", name="Generate deployment token").click()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("dialog").get_by_role("button", name="Generate token").click()
    assert posted.value.status == 503
    error = page.get_by_role("dialog", name="Token generation is not configured")
    expect(error).to_be_visible()
    expect_modal(error)
    expect(error.get_by_role("alert")).to_contain_text("TOKEN_HASH_SALT")
    expect(error).to_contain_text("No token was created.")
    expect(error.locator("input")).to_have_count(0)
    error.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    assert Token.objects.count() == tokens_before

    org_tabs(page).get_by_role("link", name="Projects").click()
    org_tabs(page).get_by_role("link", name="CI tokens").click()
    expect(page.get_by_role("main").get_by_role("alert")).to_contain_text("TOKEN_HASH_SALT")
    dialog = open_create_dialog(page)
    dialog.get_by_label("Name", exact=True).fill("Will not exist")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.get_by_role("button", name="Create token").click()
    assert posted.value.status == 503
    expect(dialog.get_by_role("alert")).to_contain_text("TOKEN_HASH_SALT")
    expect(dialog.get_by_label("Name", exact=True)).to_have_value("Will not exist")
    expect(page.get_by_role("dialog", name=re.compile("Your new CI token"))).to_have_count(0)
    assert Token.objects.count() == tokens_before
    assert not Token.objects.filter(name="Will not exist").exists()


# Members and projects --------------------------------------------------------------------


def test_members_last_owner_unknown_email_and_remove(page: Page, demo):
    sign_in(page, OWNER)
    open_org(page)
    org_tabs(page).get_by_role("link", name="Members").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/members/$"))
    expect(page.get_by_role("heading", name="Members", level=2)).to_be_visible()

    # The only owner cannot make themselves a member: the org needs an owner.
    mark_document(page)
    own_row = page.get_by_role("row").filter(has_text=OWNER)
    own_role = own_row.get_by_label(f"Role of {OWNER}")
    expect(own_role).to_have_value("owner")
    own_role.select_option(label="Member")
    own_row.get_by_role("button", name="Save").click()
    message = page.locator("#messages")
    expect(message).to_contain_text("Acme Inc needs at least one owner.")
    expect(own_role).to_have_value("owner")
    assert Membership.objects.get(user__email=OWNER).role == Membership.Role.OWNER
    assert_same_document(page)

    # Add member: an e-mail without an account gets an error next to the field, in the
    # invitation it is offered instead.
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="Add a member")
    expect(dialog).to_be_visible()
    expect_modal(dialog)
    dialog.get_by_label("E-mail").fill("nobody@example.test")
    dialog.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog", name="Invite by e-mail")
    field = dialog.get_by_label("E-mail")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        re.compile("No Tokendesk account uses that e-mail")
    )
    expect(field).to_have_value("nobody@example.test")
    expect_modal(dialog)
    assert Membership.objects.filter(organization__slug="acme").count() == 3
    dialog.get_by_role("button", name="Cancel").click()
    expect_no_dialog(page)

    # Remove dev: a confirmation, then the row goes.
    dev_row = page.get_by_role("row").filter(has_text=DEV)
    dev_row.get_by_role("button", name=f"Remove {DEV}").click()
    confirm = page.get_by_role("dialog", name=f"Remove {DEV}?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Remove", exact=True).click()
    expect_no_dialog(page)
    expect(dev_row).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"{DEV} removed.")
    assert_same_document(page)
    assert not Membership.objects.filter(user__email=DEV).exists()
    assert not Project.objects.get(slug="web").maintainers.exists()


def test_projects_create_and_delete_revokes_deployment_tokens(page: Page, demo):
    sign_in(page, OWNER)
    open_org(page)
    mark_document(page)

    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog).to_be_visible()
    expect_modal(dialog)
    dialog.get_by_label("Name").fill("Docs")
    dialog.get_by_role("button", name="Create project").click()
    expect_no_dialog(page)
    docs = page.get_by_role("row").filter(has_text="acme/docs")
    expect(docs).to_have_count(1)
    expect(docs.get_by_role("cell").nth(0)).to_have_text("Docs")
    expect(page.get_by_role("status")).to_contain_text("Project “Docs” created.")
    assert Project.objects.filter(organization__slug="acme", slug="docs", name="Docs").exists()

    active = web_tokens().unrevoked().count()
    assert active == 1, "seed_demo gives web one deployment token"
    web = page.get_by_role("row").filter(has_text="acme/web")
    web.get_by_role("button", name="Delete Web").click()
    confirm = page.get_by_role("dialog", name="Delete project “Web”?")
    expect(confirm).to_be_visible()
    expect_modal(confirm)
    expect(confirm).to_contain_text("1 active deployment token will be revoked.")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    expect_no_dialog(page)
    expect(web).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Project “Web” deleted.")
    expect(page.get_by_role("row").filter(has_text="acme/api")).to_have_count(1)
    assert_same_document(page)
    assert not Project.objects.filter(organization__slug="acme", slug="web").exists()
    assert web_tokens().count() == 1
    assert not web_tokens().unrevoked().exists()
    assert Token.objects.filter(project__slug="api").unrevoked().exists()


# Without JavaScript ----------------------------------------------------------------------


def test_without_javascript_create_and_revoke_a_ci_token(nojs_page: Page, demo):
    page = nojs_page
    label = "No-JS pipeline"
    sign_in(page, ADMIN)
    open_ci_tokens(page)

    create = page.get_by_role("main").get_by_role("button", name="Create token")
    expect(create).to_have_attribute("href", "/orgs/acme/settings/tokens/new/")
    create.click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/tokens/new/$"))
    dialog = page.get_by_role("dialog", name="New integration token")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Role", exact=True)).to_have_value("ci")
    dialog.get_by_label("Name", exact=True).fill(label)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.get_by_role("button", name="Create token").click()
    assert posted.value.status == 200
    assert "no-store" in posted.value.headers["cache-control"]
    assert posted.value.request.headers.get("hx-request") is None, "a plain form POST"

    shown = page.get_by_role("dialog", name=f"Your new CI token “{label}”")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("It will not be shown again")
    plaintext = shown.get_by_label("New token").input_value()
    assert CI_TOKEN_RE.fullmatch(plaintext), plaintext
    body = whoami(page, plaintext).json()["token"]
    assert (body["kind"], body["role"], body["org"]) == ("ci", "ci", "acme")

    shown.get_by_role("button", name="Close").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/tokens/$"))
    assert plaintext not in page.content()
    row = page.get_by_role("row").filter(has_text=label)
    expect(row.get_by_role("cell").nth(1)).to_have_text(masked(plaintext))
    expect(row.get_by_role("cell").nth(2)).to_have_text("CI token")

    row.get_by_role("button", name=f"Revoke {label}").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/tokens/\d+/revoke/$"))
    confirm = page.get_by_role("dialog", name=f"Revoke “{label}”?")
    expect(confirm).to_contain_text("may break any integrations and automation using it")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        confirm.get_by_role("button", name="Revoke", exact=True).click()
    assert posted.value.status == 302
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/tokens/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Token “{label}” revoked.")
    expect(row).to_have_count(0)
    assert whoami(page, plaintext).status == 401
    token = ci_tokens().get(name=label)
    assert token.revoked_at is not None
    assert token.revoked_by.email == ADMIN


# Screenshots -----------------------------------------------------------------------------


def assert_fits(page: Page, width: int, *selectors: str) -> None:
    """Nothing widens the page, and each element (every match) lies inside the viewport."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "page scrolls sideways"
    for selector in selectors:
        boxes = [item.bounding_box() for item in page.locator(selector).all()]
        assert boxes, f"nothing matches {selector}"
        for box in boxes:
            assert box is not None, f"{selector} is not rendered"
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, selector


def table_scrolls_sideways(page: Page) -> bool:
    return page.locator("#token-table .overflow-auto, #member-table .overflow-auto").evaluate(
        "box => box.scrollWidth > box.clientWidth"
    )


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_org_pages_fit_the_screen(page: Page, demo, name, viewport):
    width = viewport["width"]
    desktop = name == "desktop"
    page.set_viewport_size(viewport)
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, OWNER)

    # CI tokens with the show-once dialog open.
    page.goto(CI_URL)
    dialog = open_create_dialog(page)
    dialog.get_by_label("Name", exact=True).fill("Screenshot pipeline")
    dialog.get_by_label("Description (optional)").fill("Builds and deploys acme/web on main")
    dialog.get_by_role("button", name="Create token").click()
    shown, plaintext = shown_token(page, re.compile("Your new CI token"))
    page.screenshot(path=SHOTS / f"ci-token-shown-{name}.png", animations="disabled")
    assert_fits(page, width, "#token-shown-dialog article", "#new-token-value")
    field = shown.get_by_label("New token")
    assert field.evaluate("f => f.scrollWidth <= f.clientWidth"), "the token is cut off"
    assert field.input_value() == plaintext
    shown.get_by_role("button", name="Close").click()
    expect_no_dialog(page)
    expect(page.get_by_role("row")).to_have_count(4)
    page.screenshot(path=SHOTS / f"ci-tokens-{name}.png", full_page=True, animations="disabled")
    # Every row's Reset and Revoke are on screen, even where the table scrolls sideways.
    assert_fits(page, width, ".page-head", ".tabs", ".policy", "#token-table .actions a")
    if desktop:
        assert not table_scrolls_sideways(page), "the CI token table is too wide for a desktop"

    # Deployment tokens.
    page.goto(WEB_DEPLOYMENT_URL)
    expect(page.get_by_role("row")).to_have_count(2)
    page.screenshot(
        path=SHOTS / f"deployment-tokens-{name}.png", full_page=True, animations="disabled"
    )
    assert_fits(page, width, ".page-head a[role=button]", "#token-table .actions a")
    icon = page.get_by_role("row").nth(1).get_by_role("button", name="Revoke").locator("svg")
    expect(icon).to_be_visible()
    if desktop:
        assert not table_scrolls_sideways(page)

    # Members.
    page.goto("/orgs/acme/settings/members/")
    expect(page.get_by_role("row")).to_have_count(4)
    page.screenshot(path=SHOTS / f"members-{name}.png", full_page=True, animations="disabled")
    assert_fits(page, width, ".page-head", "#member-table .overflow-auto")
    assert not table_scrolls_sideways(page), "the members table is too wide"
    if desktop:
        # The role select and its Save share one line.
        row = page.get_by_role("row").filter(has_text=DEV)
        select = row.get_by_label(f"Role of {DEV}").bounding_box()
        save = row.get_by_role("button", name="Save").bounding_box()
        assert abs(select["y"] + select["height"] / 2 - (save["y"] + save["height"] / 2)) < 4
