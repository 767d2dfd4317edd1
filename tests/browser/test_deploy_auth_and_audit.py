"""The deploy-auth migration page, the audit log, the dashboard's expiry warning and the guides
in a real browser (docs/ci-tokens.md, docs/api.md; issue 6), clicked as a person would and
checked against the DOM, the database and the API."""

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from orgs.audit import Actor, record
from orgs.models import AuditEvent, Organization, Project
from tests.browser.conftest import expect_modal, sign_in
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import token_issue

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
ADMIN = "admin@acme.test"
DEV = "dev@acme.test"
SHOTS = Path(tempfile.gettempdir()) / "tokendesk-shots"  # not committed
DEPLOY_AUTH_URL = "/orgs/acme/settings/deploy-auth/"
AUDIT_URL = "/orgs/acme/audit/"
SWITCH = "Allow deployments with personal tokens"
LEGACY = "Legacy deploy server"
CHECKLIST = [
    "Create a CI token",
    "One green deployment with a CI or deployment token",
    "No deployment with a legacy credential for 7 days",
    "Legacy server tokens revoked and personal-token deploys turned off",
]
VIEWPORTS = [("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390, "height": 844})]


# Helpers ---------------------------------------------------------------------------------


def acme() -> Organization:
    return Organization.objects.get(slug="acme")


def issue(kind: str, name: str, email: str, **columns) -> str:
    """A fresh token whose plaintext the test holds (what `manage.py create_token` does)."""
    user = User.objects.get(email=email)
    if kind == Token.Kind.PERSONAL:
        columns.setdefault("user", user)
    return token_issue(
        kind=kind,
        name=name,
        permissions=perms.DEFAULT_PERMISSIONS,
        actor=Actor(user=user, user_agent="test"),
        **columns,
    ).plaintext


def deploy(page: Page, plaintext: str, project: str = "web"):
    return page.request.post(
        f"/api/v1/orgs/acme/projects/{project}/deployments",
        headers={"Authorization": f"Bearer {plaintext}"},
        data={"ref": "0123abc", "environment": "production"},
    )


def whoami(page: Page, plaintext: str):
    return page.request.get("/api/v1/whoami", headers={"Authorization": f"Bearer {plaintext}"})


def org_tabs(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Acme Inc")


def open_org(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("main").get_by_role("link", name="Acme Inc").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/$"))


def open_deploy_auth(page: Page) -> None:
    open_org(page)
    org_tabs(page).get_by_role("link", name="Deploy auth").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/deploy-auth/$"))
    expect(page.get_by_role("heading", name="Deployment authentication")).to_be_visible()


def open_audit(page: Page) -> None:
    open_org(page)
    org_tabs(page).get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/audit/$"))
    expect(page.get_by_role("heading", name="Audit log", level=2)).to_be_visible()


def expect_checklist(page: Page, *done: bool) -> None:
    """The checklist's steps, in order, each marked done or to do (in text, not only in
    colour and a tick a screen reader does not announce)."""
    steps = (
        page.get_by_role("article")
        .filter(has=page.get_by_role("heading", name="Migration checklist"))
        .get_by_role("listitem")
    )
    expect(steps).to_have_count(len(CHECKLIST))
    for index, (label, is_done) in enumerate(zip(CHECKLIST, done, strict=True)):
        state = "(done)" if is_done else "(to do)"
        expect(steps.nth(index)).to_have_text(
            re.compile(rf"{re.escape(label)}\s+{re.escape(state)}")
        )
        expect(steps.nth(index)).to_have_class("done" if is_done else "todo")


def the_switch(page: Page) -> Locator:
    return page.get_by_role("switch", name=SWITCH)


def flip_switch(page: Page, on: bool):
    """Flip the switch (HTMX posts on change) and wait for the migration block to refresh
    (on the `deployAuthChanged` event); answers the POST's response."""

    def refreshed(response) -> bool:
        request = response.request
        return (
            request.method == "GET"
            and response.url.endswith(DEPLOY_AUTH_URL)
            and request.headers.get("hx-request") == "true"
        )

    stale = page.locator("#migration[data-stale]")
    if not on:
        # Refusing asks first, naming the pipelines it breaks (the switch behind the dialog
        # reloads with the saved setting); then the dialog's button does it.
        with page.expect_response(refreshed):
            the_switch(page).set_checked(False)
        dialog = page.get_by_role("dialog", name="Refuse deployments with personal tokens?")
        expect_modal(dialog)
        expect(dialog).to_contain_text("deployed with a personal token in the last 30 days")
        page.evaluate("document.getElementById('migration').dataset.stale = 'true'")
        with (
            page.expect_response(refreshed),
            page.expect_response(lambda r: r.request.method == "POST") as posted,
        ):
            dialog.get_by_role("button", name="Refuse personal-token deployments").click()
        expect(stale).to_have_count(0)
        expect(page.locator("dialog")).to_have_count(0)
        return posted.value
    page.evaluate("document.getElementById('migration').dataset.stale = 'true'")
    with (
        page.expect_response(refreshed),
        page.expect_response(lambda r: r.request.method == "POST") as posted,
    ):
        the_switch(page).set_checked(on)
    expect(stale).to_have_count(0)  # swapped for the refreshed block
    return posted.value


def personal_usage(page: Page) -> Locator:
    return page.get_by_role("table", name="Personal tokens that deployed in the last 30 days")


def legacy_tokens(page: Page) -> Locator:
    return page.get_by_role("table", name="Legacy server tokens", exact=True)


def legacy_usage(page: Page) -> Locator:
    return page.get_by_role(
        "table", name="Deployments with legacy server tokens in the last 30 days"
    )


def body_rows(table: Locator) -> Locator:
    return table.locator("tbody").get_by_role("row")


def column(table: Locator, index: int) -> list[str]:
    return [
        text.strip()
        for text in body_rows(table).locator(f"td:nth-child({index})").all_inner_texts()
    ]


def mark_document(page: Page) -> None:
    """Set a flag that survives HTMX swaps but not a page load."""
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"


def audit_rows(page: Page) -> Locator:
    return page.locator("#audit-table tbody").get_by_role("row")


def audit_column(page: Page, index: int) -> list[str]:
    return [
        text.strip()
        for text in audit_rows(page).locator(f"td:nth-child({index})").all_inner_texts()
    ]


def expect_column(page: Page, index: int, texts: list[str]) -> None:
    """Wait until the audit table's column `index` (1-based) reads exactly `texts`: a count
    alone may match the table from before the swap."""
    expect(audit_rows(page).locator(f"td:nth-child({index})")).to_have_text(texts)


def event_ids(page: Page) -> list[int]:
    return [
        int(row_id.removeprefix("event-"))
        for row_id in audit_rows(page).evaluate_all("rows => rows.map(r => r.id)")
    ]


def audit_form(page: Page) -> Locator:
    return page.get_by_role("form", name="Filter events")


# Deploy auth -----------------------------------------------------------------------------


def test_deploy_auth_shows_the_migration_in_progress(page: Page, demo):
    sign_in(page, OWNER)
    open_deploy_auth(page)
    expect(org_tabs(page).get_by_role("link", name="Deploy auth")).to_have_attribute(
        "aria-current", "page"
    )

    # A CI token exists and deployed once; the legacy credentials deployed this week.
    expect_checklist(page, True, True, False, False)

    # Personal tokens that deployed: whose, which label, which project, how often.
    usage = personal_usage(page)
    expect(usage).to_be_visible()
    expect(body_rows(usage)).to_have_count(1)
    row = body_rows(usage).first
    expect(row.get_by_role("cell").nth(0)).to_have_text(DEV)
    expect(row.get_by_role("cell").nth(1)).to_contain_text("Laptop scripts")
    laptop = Token.objects.get(name="Laptop scripts", user__email=DEV)
    expect(row.get_by_role("cell").nth(1)).to_contain_text(laptop.preview)
    expect(row.get_by_role("cell").nth(2)).to_have_text("web")
    expect(row.get_by_role("cell").nth(3)).to_have_text("2")
    expect(row.get_by_role("cell").nth(4)).to_contain_text("ago")

    # The legacy server token: listed with a Revoke button, and its deployments per project.
    legacy = Token.objects.get(name=LEGACY)
    expect(body_rows(legacy_tokens(page))).to_have_count(1)
    listed = legacy_tokens(page).get_by_role("row").filter(has_text=LEGACY)
    expect(listed).to_contain_text(legacy.preview)
    expect(listed).to_contain_text(OWNER)
    expect(listed.get_by_role("button", name=f"Revoke {LEGACY}")).to_be_visible()
    expect(body_rows(legacy_usage(page))).to_have_count(2)
    assert column(legacy_usage(page), 2) == ["web", "api"], "newest deployment first"
    assert column(legacy_usage(page), 3) == ["4", "2"]
    for name in column(legacy_usage(page), 1):
        assert name.startswith(LEGACY), name

    # The switch shows the organization's policy.
    expect(the_switch(page)).to_be_checked()
    assert acme().allow_personal_token_deploys is True


def test_deploy_auth_switch_turns_personal_token_deploys_off_and_on(page: Page, demo):
    laptop = issue(Token.Kind.PERSONAL, "Fresh laptop token", DEV)
    ci = issue(Token.Kind.CI, "Pipeline under test", OWNER, organization=acme(), role="ci")
    sign_in(page, OWNER)
    open_deploy_auth(page)
    mark_document(page)

    # Off asks first: how many pipelines deployed with a personal token in the last 30 days
    # (the demo's "Laptop scripts" on web). Cancel changes nothing and gives the focus back.
    switch = the_switch(page)
    switch.focus()
    switch.press("Space")
    dialog = page.get_by_role("dialog", name="Refuse deployments with personal tokens?")
    expect_modal(dialog)
    expect(dialog).to_contain_text("1 pipeline deployed with a personal token in the last 30 days")
    expect(dialog).to_contain_text("(1 token of 1 person)")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(switch).to_be_checked()
    expect(switch).to_be_focused()
    assert acme().allow_personal_token_deploys is True

    # Off, confirmed: a message confirms, the database follows.
    posted = flip_switch(page, on=False)
    assert posted.status == 200
    assert posted.request.headers.get("hx-request") == "true"
    expect(page.get_by_role("status")).to_have_text(
        "Deployments with personal tokens are now refused."
    )
    expect(switch).not_to_be_checked()
    assert acme().allow_personal_token_deploys is False
    # The migration block refreshed without losing the keyboard focus on the switch.
    expect(switch).to_be_focused()
    assert_same_document(page)

    # The API follows: a personal token may not deploy, other personal-token use goes on,
    # and a CI token deploys.
    refused = deploy(page, laptop)
    assert refused.status == 403, refused.text()
    assert refused.json()["error"] == "personal_token_deploys_disabled"
    assert "CI token" in refused.json()["detail"]
    assert whoami(page, laptop).status == 200
    deployed = deploy(page, ci)
    assert deployed.status == 201, deployed.text()
    assert deployed.json()["token_kind"] == "ci"
    assert AuditEvent.objects.filter(organization=acme(), action="org.deploy_policy").count() == 1

    # On again.
    assert flip_switch(page, on=True).status == 200
    expect(page.get_by_role("status")).to_have_text("Deployments with personal tokens are allowed.")
    expect(switch).to_be_checked()
    assert acme().allow_personal_token_deploys is True
    accepted = deploy(page, laptop)
    assert accepted.status == 201, accepted.text()
    assert accepted.json()["token_kind"] == "personal"
    assert_same_document(page)

    # A page load shows the saved state.
    page.reload()
    expect(the_switch(page)).to_be_checked()


def test_deploy_auth_revoke_legacy_tokens_ticks_the_checklist(page: Page, demo):
    # A second legacy server token whose secret the test holds: it still deploys, marked
    # deprecated, until revoked.
    jenkins = issue(Token.Kind.SERVER, "Old Jenkins", OWNER, organization=acme())
    used = deploy(page, jenkins, "api")
    assert used.status == 201, used.text()
    assert used.headers["deprecation"] == "true"
    assert "CI token" in used.headers["warning"]

    sign_in(page, OWNER)
    open_deploy_auth(page)
    expect(body_rows(legacy_tokens(page))).to_have_count(2)
    assert "Old Jenkins" in " ".join(column(legacy_usage(page), 1))
    expect_checklist(page, True, True, False, False)
    mark_document(page)

    for name in ("Old Jenkins", LEGACY):
        row = legacy_tokens(page).get_by_role("row").filter(has_text=name)
        row.get_by_role("button", name=f"Revoke {name}").click()
        confirm = page.get_by_role("dialog", name=f"Revoke “{name}”?")
        expect(confirm).to_be_visible()
        expect_modal(confirm)
        expect(confirm.get_by_role("alert")).to_contain_text(
            "Pipelines still deploying with this server token will fail at once."
        )
        token = Token.objects.get(kind=Token.Kind.SERVER, name=name)
        expect(confirm).to_contain_text(token.preview)
        # The page behind is intact while the dialog is open.
        expect(page.get_by_role("heading", name="Migration checklist")).to_be_attached()
        confirm.get_by_role("button", name="Revoke", exact=True).click()
        expect(page.locator("dialog")).to_have_count(0)
        expect(row).to_have_count(0)
        expect(page.get_by_role("status")).to_have_text(f"“{name}” revoked.")
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert token.revoked_by.email == OWNER

    assert_same_document(page)
    expect(legacy_tokens(page)).to_have_count(0)
    expect(page.get_by_text("No legacy server tokens left.")).to_be_visible()
    # Its past deployments stay listed, marked revoked.
    expect(legacy_usage(page).get_by_role("row").filter(has_text=LEGACY).first).to_contain_text(
        "Revoked"
    )
    refused = deploy(page, jenkins, "api")
    assert refused.status == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    # Personal-token deploys are still allowed: the last step is not done yet.
    expect_checklist(page, True, True, False, False)

    # Turning them off completes it, without a page load.
    flip_switch(page, on=False)
    expect(page.get_by_role("status")).to_have_text(
        "Deployments with personal tokens are now refused."
    )
    expect_checklist(page, True, True, False, True)
    assert_same_document(page)
    assert acme().allow_personal_token_deploys is False
    assert not Token.objects.filter(kind=Token.Kind.SERVER).unrevoked().exists()
    page.reload()
    expect_checklist(page, True, True, False, True)


def test_deploy_auth_lists_page_on_their_own(page: Page, demo):
    """55 more personal-token pipelines: a page of 50, the next page a click away, and the
    legacy lists keep their place while the personal list pages (and after a revoke)."""
    dev = User.objects.get(email=DEV)
    web = Project.objects.get(organization__slug="acme", slug="web")
    for number in range(55):
        token = token_issue(
            kind=Token.Kind.PERSONAL, name=f"Script {number:02d}", user=dev,
            permissions=perms.DEFAULT_PERMISSIONS, actor=Actor(user=dev),
        ).token  # fmt: skip
        web.deployments.create(ref="abc", token_id=token.pk, token_kind=token.kind)
    sign_in(page, OWNER)
    open_deploy_auth(page)
    usage = personal_usage(page)
    expect(body_rows(usage)).to_have_count(50)
    pager = page.get_by_role("navigation", name="Personal tokens that deployed in the last 30 days")
    expect(pager).to_contain_text("Page 1 of 2 · 56 pipelines")
    pager.get_by_role("link", name="Older →").click()
    expect(page).to_have_url(re.compile(r"\?personal_page=2$"))
    expect(body_rows(usage)).to_have_count(6)
    expect(usage).to_contain_text("Laptop scripts")  # the demo's, the oldest
    expect(body_rows(legacy_tokens(page))).to_have_count(1)

    # Revoking the legacy token reloads the lists where they were.
    mark_document(page)
    row = legacy_tokens(page).get_by_role("row").filter(has_text=LEGACY)
    row.get_by_role("button", name=f"Revoke {LEGACY}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke", exact=True).click()
    expect(page.get_by_text("No legacy server tokens left.")).to_be_visible()
    assert_same_document(page)
    expect(body_rows(usage)).to_have_count(6)
    expect(pager).to_contain_text("Page 2 of 2 · 56 pipelines")
    pager.get_by_role("link", name="← Newer").click()
    expect(body_rows(usage)).to_have_count(50)


def test_deploy_auth_revoke_without_javascript(nojs_page: Page, demo):
    page = nojs_page
    sign_in(page, OWNER)
    open_deploy_auth(page)

    row = legacy_tokens(page).get_by_role("row").filter(has_text=LEGACY)
    row.get_by_role("button", name=f"Revoke {LEGACY}").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/deploy-auth/legacy/\d+/revoke/$"))
    confirm = page.get_by_role("dialog", name=f"Revoke “{LEGACY}”?")
    expect(confirm).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        confirm.get_by_role("button", name="Revoke", exact=True).click()
    assert posted.value.status == 302
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/deploy-auth/$"))
    expect(page.get_by_role("status")).to_have_text(f"“{LEGACY}” revoked.")
    expect(page.get_by_text("No legacy server tokens left.")).to_be_visible()
    assert Token.objects.get(name=LEGACY).revoked_at is not None

    # The switch is a plain form with a Save button; the confirmation is the page with its
    # dialog open.
    the_switch(page).uncheck()
    page.get_by_role("button", name="Save").click()
    confirm = page.get_by_role("dialog", name="Refuse deployments with personal tokens?")
    expect(confirm).to_contain_text("deployed with a personal token in the last 30 days")
    assert acme().allow_personal_token_deploys is True
    confirm.get_by_role("button", name="Refuse personal-token deployments").click()
    expect(page.get_by_role("status")).to_have_text(
        "Deployments with personal tokens are now refused."
    )
    expect(the_switch(page)).not_to_be_checked()
    assert acme().allow_personal_token_deploys is False
    expect_checklist(page, True, True, False, True)


# Audit log -------------------------------------------------------------------------------


def test_audit_log_filters(page: Page, demo):
    # Besides seed_demo's token.create events, a couple of other kinds.
    admin = User.objects.get(email=ADMIN)
    for action in ("project.update", "org.token_policy"):
        record(action, actor=Actor(user=admin), target=Project.objects.get(slug="web"))
    sign_in(page, ADMIN)
    open_audit(page)
    events = AuditEvent.objects.filter(organization=acme())
    expect(audit_rows(page)).to_have_count(events.count())
    assert event_ids(page) == sorted(event_ids(page), reverse=True), "newest first"
    form = audit_form(page)
    mark_document(page)

    # Action.
    form.get_by_label("Action", exact=True).select_option(label="Token created")
    form.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]action=token.create"))
    created = events.filter(action="token.create")
    expect_column(page, 3, ["token.create Token created"] * created.count())
    assert sorted(event_ids(page)) == sorted(created.values_list("pk", flat=True))
    # The filters swapped with the table, keeping the focus where it was.
    expect(form.get_by_role("button", name="Filter")).to_be_focused()
    assert_same_document(page)

    # Actor.
    form.get_by_label("Action", exact=True).select_option(label="Any action")
    form.get_by_label("Actor", exact=True).fill("dev@")
    form.get_by_role("button", name="Filter").click()
    by_dev = events.filter(actor_label__icontains="dev@")
    assert by_dev.exists(), "seed_demo: dev created the web deployment token"
    expect_column(page, 2, [DEV] * by_dev.count())

    # Token.
    form.get_by_label("Actor", exact=True).fill("")
    form.get_by_label("Token", exact=True).fill("GitHub Actions")
    form.get_by_role("button", name="Filter").click()
    github = Token.objects.get(name="GitHub Actions")
    about_github = events.filter(target_type="token", target_id=github.pk).count()
    expect_column(page, 4, [github.audit_label] * about_github)
    assert_same_document(page)

    # A date range that ends before it starts: an error next to "To", nothing listed.
    form.get_by_label("Token", exact=True).fill("")
    form.get_by_label("From", exact=True).fill("2030-01-10")
    form.get_by_label("To", exact=True).fill("2030-01-01")
    with page.expect_response(lambda r: "/audit/" in r.url) as answered:
        form.get_by_role("button", name="Filter").click()
    assert answered.value.status == 422
    until = form.get_by_label("To", exact=True)
    expect(until).to_have_attribute("aria-invalid", "true")
    expect(until).to_have_accessible_description("“To” must be on or after “From”.")
    expect(form.locator(".field-error")).to_have_count(1)
    expect(form.get_by_label("From", exact=True)).to_have_value("2030-01-10")
    expect(audit_rows(page)).to_have_count(0)
    assert_same_document(page)

    # A valid range: today's events.
    today = page.evaluate("new Date().toISOString().slice(0, 10)")
    form.get_by_label("From", exact=True).fill(today)
    form.get_by_label("To", exact=True).fill(today)
    form.get_by_role("button", name="Filter").click()
    expect(form.get_by_label("To", exact=True)).not_to_have_attribute("aria-invalid", "true")
    expect(audit_rows(page)).to_have_count(events.count())

    # Clear: every event, empty fields.
    form.get_by_label("Actor", exact=True).fill("nobody-matches-this")
    form.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No events match.")).to_be_visible()
    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/audit/$"))
    expect(audit_rows(page)).to_have_count(events.count())
    for field in ("Actor", "Token", "From", "To"):
        expect(audit_form(page).get_by_label(field, exact=True)).to_have_value("")
    expect(audit_form(page).get_by_label("Action", exact=True)).to_have_value("")


def test_audit_log_filters_without_javascript(nojs_page: Page, demo):
    page = nojs_page
    sign_in(page, ADMIN)
    open_audit(page)
    form = audit_form(page)

    form.get_by_label("Action", exact=True).select_option(label="Token created")
    form.get_by_label("Actor", exact=True).fill("dev@")
    with page.expect_response(lambda r: "/audit/" in r.url) as answered:
        form.get_by_role("button", name="Filter").click()
    assert answered.value.request.method == "GET"
    assert answered.value.status == 200
    expect(page).to_have_url(re.compile(r"action=token.create"))
    expected = AuditEvent.objects.filter(
        organization=acme(), action="token.create", actor_label__icontains="dev@"
    )
    expect(audit_rows(page)).to_have_count(expected.count())
    assert set(audit_column(page, 2)) == {DEV}
    expect(form.get_by_label("Actor", exact=True)).to_have_value("dev@")

    form.get_by_label("From", exact=True).fill("2030-01-10")
    form.get_by_label("To", exact=True).fill("2030-01-01")
    with page.expect_response(lambda r: "/audit/" in r.url) as answered:
        form.get_by_role("button", name="Filter").click()
    assert answered.value.status == 422
    expect(form.get_by_label("To", exact=True)).to_have_accessible_description(
        "“To” must be on or after “From”."
    )

    page.get_by_role("link", name="Clear").click()
    expect(audit_rows(page)).to_have_count(AuditEvent.objects.filter(organization=acme()).count())


def test_audit_log_older_events(page: Page, demo):
    admin = User.objects.get(email=ADMIN)
    web = Project.objects.get(slug="web")
    for n in range(60):
        record(
            "project.update",
            actor=Actor(user=admin, ip="198.51.100.9", user_agent="test"),
            target=web,
            data={"n": n},
        )
    total = AuditEvent.objects.filter(organization=acme()).count()
    sign_in(page, ADMIN)
    open_audit(page)

    expect(audit_rows(page)).to_have_count(50)
    first_page = event_ids(page)
    page.get_by_role("button", name="Older events").click()
    expect(page).to_have_url(re.compile(r"[?&]before=\d+"))
    expect(audit_rows(page)).to_have_count(total - 50)
    second_page = event_ids(page)
    assert not set(first_page) & set(second_page)
    assert max(second_page) < min(first_page)
    expect(page.get_by_role("button", name="Older events")).to_have_count(0)

    # Paging keeps the filters.
    page.goto(f"{AUDIT_URL}?action=project.update")
    expect(audit_rows(page)).to_have_count(50)
    page.get_by_role("button", name="Older events").click()
    expect(page).to_have_url(re.compile(r"action=project.update"))
    expect(audit_rows(page)).to_have_count(10)
    assert set(audit_column(page, 3)) == {"project.update Project changed"}


# Access ----------------------------------------------------------------------------------


def test_members_do_not_reach_deploy_auth_or_the_audit_log(page: Page, demo):
    sign_in(page, DEV)
    open_org(page)
    tabs = org_tabs(page)
    expect(tabs.get_by_role("link", name="Projects")).to_be_visible()
    expect(tabs.get_by_role("link", name="Deploy auth")).to_have_count(0)
    expect(tabs.get_by_role("link", name="Audit log")).to_have_count(0)
    for url in (DEPLOY_AUTH_URL, AUDIT_URL, f"{AUDIT_URL}?action=token.create"):
        response = page.goto(url)
        assert response.status == 404, url
    legacy = Token.objects.get(name=LEGACY)
    response = page.goto(f"{DEPLOY_AUTH_URL}legacy/{legacy.pk}/revoke/")
    assert response.status == 404


# Dashboard and guides --------------------------------------------------------------------


def test_dashboard_warns_about_tokens_expiring_soon(page: Page, demo):
    issue(Token.Kind.PERSONAL, "Short-lived script", DEV, expires_in_days=3)
    issue(Token.Kind.PERSONAL, "Next quarter", DEV, expires_in_days=90)
    soon = Token.objects.get(name="Short-lived script")
    sign_in(page, DEV)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()

    warning = page.locator("#expiring-soon")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Tokens expiring within 7 days")
    expect(warning.get_by_role("listitem")).to_have_count(1)
    item = warning.get_by_role("listitem").first
    expect(item).to_contain_text("“Short-lived script”")
    expect(item).to_contain_text(soon.preview)
    expect(item).to_contain_text(re.compile(r"expires (2\sdays,\s23\shours|3\sdays) from now"))
    expect(warning).not_to_contain_text("Next quarter")
    expect(warning).not_to_contain_text("Laptop scripts")

    item.get_by_role("link", name="Replace it").click()
    expect(page).to_have_url(re.compile(r"/settings/tokens/$"))
    expect(page.get_by_role("heading", name="Personal API tokens", level=1)).to_be_visible()
    expect(page.locator(f"#token-{soon.pk}")).to_contain_text("Short-lived script")

    # Someone else's personal token is not their business.
    page.context.clear_cookies()
    sign_in(page, OWNER)
    page.goto("/")
    expect(page.locator("#expiring-soon")).to_have_count(0)


def test_guide_links_from_the_personal_tokens_page(page: Page, demo):
    sign_in(page, DEV)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    page.get_by_role("main").get_by_role("link", name="Guide", exact=True).click()
    expect(page).to_have_url(re.compile(r"/docs/personal-tokens/?$"))
    expect(page.get_by_role("heading", name="Personal API tokens", level=1)).to_be_visible()
    breadcrumb = page.get_by_role("navigation", name="breadcrumb")
    expect(breadcrumb.get_by_role("link", name="Guides")).to_be_visible()


def test_migration_guide_link_lands_on_its_section(page: Page, demo):
    sign_in(page, OWNER)
    page.goto(DEPLOY_AUTH_URL)
    page.get_by_role("link", name="Migrating deployments to CI tokens").click()
    expect(page).to_have_url(re.compile(r"/docs/ci-tokens/?#migrating-deployments-to-ci-tokens$"))
    section = page.get_by_role("heading", name="Migrating deployments to CI tokens", level=2)
    expect(section).to_be_visible()
    assert section.get_attribute("id") == "migrating-deployments-to-ci-tokens"
    expect(section).to_be_in_viewport()
    assert section.evaluate("h => h.getBoundingClientRect().top") < 100, "scrolled to it"


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


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_deploy_auth_and_audit_pages_fit_the_screen(page: Page, demo, name, viewport):
    width = viewport["width"]
    page.set_viewport_size(viewport)
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, OWNER)

    page.goto(DEPLOY_AUTH_URL)
    expect_checklist(page, True, True, False, False)
    page.screenshot(path=SHOTS / f"deploy-auth-{name}.png", full_page=True, animations="disabled")
    assert_fits(page, width, ".tabs", ".checklist", "[role=switch]", "#migration .actions a")

    legacy_tokens(page).get_by_role("button", name=f"Revoke {LEGACY}").click()
    confirm = page.get_by_role("dialog", name=f"Revoke “{LEGACY}”?")
    expect(confirm).to_be_visible()
    page.screenshot(path=SHOTS / f"deploy-auth-revoke-{name}.png", animations="disabled")
    assert_fits(
        page, width, "#confirm-revoke-dialog article", "#confirm-revoke-dialog footer button"
    )
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.locator("dialog")).to_have_count(0)

    page.goto(AUDIT_URL)
    expect(audit_rows(page).first).to_be_visible()
    page.screenshot(path=SHOTS / f"audit-{name}.png", full_page=True, animations="disabled")
    assert_fits(
        page,
        width,
        ".tabs",
        "#audit form input",
        "#audit form select",
        "#audit-table .overflow-auto",
    )

    page.goto(f"{AUDIT_URL}?since=2030-01-10&until=2030-01-01")
    page.screenshot(path=SHOTS / f"audit-error-{name}.png", full_page=True, animations="disabled")
    assert_fits(page, width, "#audit form .field-error")

    issue(Token.Kind.PERSONAL, "Short-lived script", OWNER, expires_in_days=3)
    page.goto("/")
    expect(page.locator("#expiring-soon")).to_be_visible()
    page.screenshot(
        path=SHOTS / f"dashboard-expiring-{name}.png", full_page=True, animations="disabled"
    )
    assert_fits(page, width, "#expiring-soon")
