"""Webhooks in a real browser: add an endpoint (secret shown once, copied), send a test
event to a real receiver, see the delivery, redeliver it."""

import json
import re

import pytest
from playwright.sync_api import expect

from events import secrets
from events.models import Delivery, Endpoint
from tests.browser.conftest import sign_in
from tests.events.receiver import Receiver

pytestmark = pytest.mark.browser

SECRET_RE = re.compile(r"whsec_[A-Za-z0-9_-]{43}")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    server = Receiver().start()
    yield server
    server.stop()


def test_add_endpoint_send_test_event_and_redeliver(page, demo, receiver):
    sign_in(page, "owner@acme.test")
    page.goto("/orgs/acme/")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()

    page.get_by_text("Add endpoint", exact=True).first.click()
    form = page.get_by_role("form", name="Add endpoint")
    form.get_by_label("Endpoint URL").fill(receiver.url)
    form.get_by_label("token.created — A token was created").check()
    form.get_by_label("token.revoked — A token was revoked").check()
    form.get_by_role("button", name="Add endpoint").click()

    dialog = page.get_by_role("dialog", name="Endpoint added")
    expect(dialog).to_be_visible()
    shown = dialog.get_by_label("Signing secret").input_value()
    assert SECRET_RE.fullmatch(shown)
    dialog.get_by_role("button", name="Copy to clipboard").click()
    assert page.evaluate("navigator.clipboard.readText()") == shown
    endpoint = Endpoint.objects.get()
    assert secrets.decrypt(endpoint.secret_encrypted) == shown
    assert endpoint.events == ["token.created", "token.revoked"]

    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#secret-shown-dialog")).to_have_count(0)  # removed, the secret too
    assert shown not in page.content()
    page.get_by_role("link", name=receiver.url).click()
    expect(page.get_by_role("heading", name=receiver.url)).to_be_visible()
    assert shown not in page.content()  # shown once
    expect(page.get_by_text("No deliveries yet.")).to_be_visible()

    page.get_by_role("button", name="Send test event").click()
    rows = page.locator("#delivery-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ping")
    expect(rows.first).to_contain_text("Delivered")
    expect(rows.first).to_contain_text("200")
    [hit] = receiver.received
    ping = json.loads(hit.body)
    assert ping["type"] == "ping" and ping["organization"]["slug"] == "acme"
    assert hit.headers["Tokendesk-Signature"].startswith("t=")

    rows.first.get_by_role("button", name=re.compile("^Redeliver")).click()
    expect(page.get_by_text("Event ping redelivered.")).to_be_visible()
    expect(rows).to_have_count(2)
    assert [json.loads(b)["id"] for b in receiver.bodies()] == [ping["id"], ping["id"]]
    assert Delivery.objects.filter(status="delivered").count() == 2

    # Back on the list, the endpoint shows its preview only.
    page.get_by_role("link", name="← Webhooks").click()
    row = page.locator(f"#endpoint-{endpoint.pk}")
    expect(row).to_contain_text(endpoint.secret_preview)
    expect(row).to_contain_text("active")
    assert shown not in page.content()


def test_delete_endpoint_after_confirming(page, demo, receiver):
    sign_in(page, "admin@acme.test")
    page.goto("/orgs/acme/settings/webhooks/")
    page.get_by_text("Add endpoint", exact=True).first.click()
    form = page.get_by_role("form", name="Add endpoint")
    form.get_by_label("Endpoint URL").fill(receiver.url)
    form.get_by_label("member.added — A member was added").check()
    form.get_by_role("button", name="Add endpoint").click()
    page.get_by_role("dialog", name="Endpoint added").get_by_role("button", name="Close").click()
    page.get_by_role("link", name=receiver.url).click()

    page.get_by_role("button", name="Delete endpoint").click()
    confirm = page.get_by_role("dialog", name="Delete this endpoint?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Endpoint {receiver.url} deleted.")).to_be_visible()
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    assert not Endpoint.objects.exists()


def test_bad_url_is_shown_next_to_the_field(page, demo, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    sign_in(page, "owner@acme.test")
    page.goto("/orgs/acme/settings/webhooks/")
    page.get_by_text("Add endpoint", exact=True).first.click()
    form = page.get_by_role("form", name="Add endpoint")
    form.get_by_label("Endpoint URL").fill("https://169.254.169.254/latest/meta-data/")
    form.get_by_label("token.leaked — A token was reported leaked and revoked").check()
    form.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("it resolves to a cloud metadata address")).to_be_visible()
    assert not Endpoint.objects.exists()
