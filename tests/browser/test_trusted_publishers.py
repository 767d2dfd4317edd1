"""Trusted publishers in a real browser (docs/trusted-publishing.md): a project maintainer
adds a policy from the deployment-tokens page, meets a field error, fixes it, edits and
removes the policy."""

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from orgs.models import AuditEvent
from tests.browser.conftest import sign_in
from trust.models import TrustedPublisher

pytestmark = pytest.mark.browser

DEV = "dev@acme.test"
SHOTS = Path(tempfile.gettempdir()) / "tokendesk-shots"  # not committed


def test_a_maintainer_adds_edits_and_removes_a_trusted_publisher(page: Page, demo):
    sign_in(page, DEV)
    page.goto("/orgs/acme/projects/web/settings/deployment-tokens/")
    page.get_by_role("link", name="trusted publishers").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/projects/web/settings/trusted-publishers/$"))
    expect(page.get_by_role("heading", name="Trusted publishers · Web")).to_be_visible()
    expect(page.get_by_text("No trusted publishers yet")).to_be_visible()

    page.get_by_role("button", name="Add trusted publisher").click()
    dialog = page.get_by_role("dialog", name="Add trusted publisher")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Issuer")).to_have_value(
        "https://token.actions.githubusercontent.com"
    )
    expect(dialog.get_by_label("Create deployments (includes read)")).to_be_checked()
    expect(dialog.get_by_label("Create, reset and revoke tokens")).to_have_count(0)
    dialog.get_by_label("Repository").fill("acme/web")
    dialog.get_by_label("Ref", exact=True).fill("refs/heads/main")
    dialog.get_by_label("Environment").fill("production")
    dialog.get_by_label("Lifetime (minutes)").fill("90")
    dialog.get_by_role("button", name="Add trusted publisher").click()

    expect(dialog.get_by_text("The lifetime is 5 to 60 minutes.")).to_be_visible()
    assert not TrustedPublisher.objects.exists()
    dialog.get_by_label("Lifetime (minutes)").fill("20")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "trusted-publisher-dialog.png"))
    dialog.get_by_role("button", name="Add trusted publisher").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Trusted publisher added.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="acme/web")
    expect(row).to_contain_text("refs/heads/main")
    expect(row).to_contain_text("20 min")
    page.screenshot(path=str(SHOTS / "trusted-publishers.png"), full_page=True)
    policy = TrustedPublisher.objects.get()
    assert policy.conditions == {
        "repository": "acme/web",
        "ref": "refs/heads/main",
        "environment": "production",
    }
    assert policy.created_by.email == DEV

    row.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name="Edit trusted publisher")
    expect(dialog.get_by_label("Repository")).to_have_value("acme/web")
    dialog.get_by_label("Environment").fill("staging")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Trusted publisher saved.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="acme/web")).to_contain_text("staging")

    page.get_by_role("row").filter(has_text="acme/web").get_by_role("button", name="Remove").click()
    page.get_by_role("dialog", name="Remove trusted publisher?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(page.get_by_text("No trusted publishers yet")).to_be_visible()
    assert not TrustedPublisher.objects.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"publisher.create", "publisher.update", "publisher.delete"} <= actions
