"""Removing a person who created deployment tokens, in a real browser: the confirmation lists
their tokens, which keep working unless the remover ticks "Also revoke …" (docs/security.md).
With HTMX and without JavaScript."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from orgs.models import Membership, Project
from tests.browser.conftest import sign_in
from tests.factories import make_deployment_token
from tokens.models import Token

pytestmark = pytest.mark.browser

OWNER = "owner@acme.test"
DEV = "dev@acme.test"


def devs_tokens() -> list:
    """seed_demo's "web deploy" (made by dev) plus one more of web and one of api, whose
    plaintexts the test holds."""
    dev = User.objects.get(email=DEV)
    web, api = (Project.objects.get(slug=slug) for slug in ("web", "api"))
    api.maintainers.add(dev)
    return [
        make_deployment_token(web, dev, name="web pipeline"),
        make_deployment_token(api, dev, name="api pipeline"),
    ]


def created_by_dev():
    return Token.objects.filter(kind=Token.Kind.DEPLOYMENT, created_by__email=DEV)


def deploys(page: Page, plaintext: str, project: str) -> int:
    return page.request.post(
        f"/api/v1/orgs/acme/projects/{project}/deployments",
        data={"ref": "v9"},
        headers={"Authorization": f"Bearer {plaintext}"},
    ).status


def open_members(page: Page) -> None:
    page.goto("/orgs/acme/")
    page.get_by_role("navigation", name="Acme Inc").get_by_role("link", name="Members").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/settings/members/$"))


def remove_dev_dialog(page: Page):
    page.get_by_role("row").filter(has_text=DEV).get_by_role("button", name=f"Remove {DEV}").click()
    dialog = page.get_by_role("dialog", name=f"Remove {DEV}?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        f"3 deployment tokens created by {DEV} keep working; revoke them too?"
    )
    for name in ("web deploy", "web pipeline", "api pipeline"):
        expect(dialog.get_by_role("listitem").filter(has_text=name)).to_have_count(1)
    return dialog


def test_removing_a_member_and_revoking_their_deployment_tokens(page: Page, demo):
    issued = devs_tokens()
    sign_in(page, OWNER)
    open_members(page)
    dialog = remove_dev_dialog(page)
    box = dialog.get_by_label("Also revoke these 3 tokens")
    expect(box).not_to_be_checked()
    box.check()
    dialog.get_by_role("button", name="Remove", exact=True).click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text=DEV)).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"{DEV} removed.")
    assert not Membership.objects.filter(user__email=DEV, organization__slug="acme").exists()
    assert created_by_dev().count() == 3
    assert not created_by_dev().unrevoked().exists()
    assert deploys(page, issued[0].plaintext, "web") == 401
    assert deploys(page, issued[1].plaintext, "api") == 401


def test_removing_a_member_keeps_their_deployment_tokens_by_default(page: Page, demo):
    issued = devs_tokens()
    sign_in(page, OWNER)
    open_members(page)
    dialog = remove_dev_dialog(page)
    dialog.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"{DEV} removed.")
    assert not Membership.objects.filter(user__email=DEV, organization__slug="acme").exists()
    assert created_by_dev().unrevoked().count() == 3
    assert deploys(page, issued[0].plaintext, "web") == 201
    assert deploys(page, issued[1].plaintext, "api") == 201


def edit_web_without_dev(page: Page):
    page.get_by_role("row").filter(has_text="acme/web").get_by_role(
        "button", name="Edit Web"
    ).click()
    edit = page.get_by_role("dialog", name="Edit Web")
    expect(edit).to_be_visible()
    edit.get_by_label(DEV).uncheck()
    edit.get_by_role("button", name="Save").click()
    confirm = page.get_by_role("dialog", name=f"Remove {DEV} from the maintainers of Web?")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(
        f"2 deployment tokens created by {DEV} keep working; revoke them too?"
    )
    expect(confirm).not_to_contain_text("api pipeline")
    return confirm


def test_removing_a_maintainer_and_revoking_their_tokens_of_the_project(page: Page, demo):
    issued = devs_tokens()
    sign_in(page, OWNER)
    page.goto("/orgs/acme/")
    confirm = edit_web_without_dev(page)
    assert Project.objects.get(slug="web").maintainers.filter(email=DEV).exists()
    confirm.get_by_label("Also revoke these 2 tokens").check()
    confirm.get_by_role("button", name="Save").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("Project “Web” saved.")
    web_row = page.get_by_role("row").filter(has_text="acme/web")
    expect(web_row.get_by_role("cell").nth(2)).not_to_contain_text(DEV)
    assert not Project.objects.get(slug="web").maintainers.filter(email=DEV).exists()
    assert not created_by_dev().filter(project__slug="web").unrevoked().exists()
    assert deploys(page, issued[0].plaintext, "web") == 401
    assert deploys(page, issued[1].plaintext, "api") == 201


def test_without_javascript_removing_a_maintainer_keeps_their_tokens(nojs_page: Page, demo):
    page = nojs_page
    issued = devs_tokens()
    sign_in(page, OWNER)
    page.goto("/orgs/acme/")
    confirm = edit_web_without_dev(page)
    expect(confirm.get_by_label("Also revoke these 2 tokens")).not_to_be_checked()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        confirm.get_by_role("button", name="Save").click()
    assert posted.value.status == 302
    assert posted.value.request.headers.get("hx-request") is None, "a plain form POST"
    expect(page).to_have_url(re.compile(r"/orgs/acme/$"))
    expect(page.get_by_role("status")).to_contain_text("Project “Web” saved.")
    assert not Project.objects.get(slug="web").maintainers.filter(email=DEV).exists()
    assert created_by_dev().filter(project__slug="web").unrevoked().count() == 2
    assert deploys(page, issued[0].plaintext, "web") == 201
