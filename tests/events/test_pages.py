"""The webhook settings pages: owners and super admins only; the secret shown once."""

import pytest
from django.urls import reverse

from events import secrets
from events.models import Delivery, Endpoint
from tests import factories
from tests.events.conftest import add_endpoint


@pytest.fixture
def page(org):
    return reverse("events:webhooks", args=[org.slug])


def _signed_in(client, email):
    from accounts.models import User

    client.force_login(User.objects.get(email=email))
    return client


@pytest.mark.parametrize("email", ["owner@acme.test", "admin@acme.test"])
def test_owners_and_super_admins_see_the_page(client, page, email):
    assert _signed_in(client, email).get(page).status_code == 200


def test_members_and_strangers_get_404(client, org, page):
    factories.make_user("stranger@example.test")
    assert _signed_in(client, "dev@acme.test").get(page).status_code == 404
    assert _signed_in(client, "stranger@example.test").get(page).status_code == 404
    client.logout()
    assert client.get(page).status_code == 302


def test_create_shows_the_secret_once_and_stores_it_encrypted(client, org, page, receiver):
    _signed_in(client, "owner@acme.test")
    response = client.post(
        page, {"url": receiver.url, "events": ["token.created", "token.revoked"]}
    )
    assert response.status_code == 201
    endpoint = Endpoint.objects.get()
    secret = secrets.decrypt(endpoint.secret_encrypted)
    body = response.content.decode()
    assert secret in body and "Copy to clipboard" in body
    assert secret not in endpoint.secret_encrypted
    assert endpoint.events == ["token.created", "token.revoked"]

    for url in (page, reverse("events:endpoint", args=[org.slug, endpoint.pk])):
        later = client.get(url).content.decode()
        assert secret not in later
        assert endpoint.secret_preview in later


def test_bad_input_is_shown_next_to_the_field(client, org, page, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    _signed_in(client, "owner@acme.test")
    response = client.post(page, {"url": "https://10.0.0.1/hook", "events": ["token.created"]})
    assert response.status_code == 422
    assert "a private or reserved address" in response.content.decode()
    response = client.post(page, {"url": "https://93.184.215.14/", "events": []})
    assert response.status_code == 422
    assert "Choose at least one event." in response.content.decode()
    assert not Endpoint.objects.exists()


def test_another_organizations_endpoint_is_404(client, org, receiver):
    other = factories.make_org("other", owner="owner@acme.test")
    endpoint, _ = add_endpoint(other, receiver.url)
    _signed_in(client, "admin@acme.test")
    for name in ("events:endpoint", "events:endpoint-delete"):
        assert client.get(reverse(name, args=["other", endpoint.pk])).status_code == 404
        assert client.get(reverse(name, args=["acme", endpoint.pk])).status_code == 404
    assert (
        client.post(reverse("events:endpoint-test", args=["acme", endpoint.pk])).status_code == 404
    )


def test_edit_test_event_redeliver_and_delete(
    client, org, receiver, django_capture_on_commit_callbacks
):
    endpoint, _ = add_endpoint(org, receiver.url, ["token.created"])
    _signed_in(client, "admin@acme.test")
    detail = reverse("events:endpoint", args=[org.slug, endpoint.pk])

    response = client.post(
        detail, {"url": receiver.url, "events": ["token.revoked"], "description": "chat"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.description, endpoint.is_active) == (
        ["token.revoked"], "chat", False,
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("events:endpoint-test", args=[org.slug, endpoint.pk]))
    [ping] = Delivery.objects.filter(endpoint=endpoint)
    assert (ping.event_type, ping.status, ping.response_code) == ("ping", "delivered", 200)
    page = client.get(detail).content.decode()
    assert "Delivered" in page and "Redeliver" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("events:redeliver", args=[org.slug, endpoint.pk, ping.pk]))
    assert Delivery.objects.filter(endpoint=endpoint, event_id=ping.event_id).count() == 2
    assert len(receiver.received) == 2

    confirm = client.get(reverse("events:endpoint-delete", args=[org.slug, endpoint.pk]))
    assert "Delete this endpoint?" in confirm.content.decode()
    client.post(reverse("events:endpoint-delete", args=[org.slug, endpoint.pk]))
    assert not Endpoint.objects.exists()
    assert not Delivery.objects.exists()


def test_webhook_changes_are_audited(client, org, page, receiver):
    from orgs.models import AuditEvent

    _signed_in(client, "owner@acme.test")
    client.post(page, {"url": receiver.url, "events": ["token.created"]})
    event = AuditEvent.objects.get(action="webhook.create")
    assert event.data == {"url": receiver.url, "events": ["token.created"]}
    assert "whsec_" not in str(event.data)


def test_the_admin_never_shows_the_secret(client, org, receiver):
    from accounts.models import User

    endpoint, secret = add_endpoint(org, receiver.url)
    admin = User.objects.create_superuser(email="root@example.test", password="pw-for-tests")
    client.force_login(admin)
    page = client.get(reverse("admin:events_endpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert secret not in body and endpoint.secret_encrypted not in body
    assert client.get(reverse("admin:events_endpoint_add")).status_code == 403


def test_delete_with_htmx_opens_the_dialog_and_sends_the_window_back(client, org, receiver):
    endpoint, _ = add_endpoint(org, receiver.url)
    _signed_in(client, "owner@acme.test")
    url = reverse("events:endpoint-delete", args=[org.slug, endpoint.pk])
    dialog = client.get(url, headers={"HX-Request": "true"})
    body = dialog.content.decode()
    assert body.lstrip().startswith("<dialog") and "Delete this endpoint?" in body
    response = client.post(url, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == reverse("events:webhooks", args=[org.slug])
    assert not Endpoint.objects.exists()


def test_adding_an_endpoint_in_a_stale_session_asks_to_reauthenticate(
    client, org, page, receiver, settings
):
    import time_machine
    from django.utils import timezone

    from accounts.models import User

    settings.REAUTHENTICATION_MINUTES = 10
    owner = User.objects.get(email="owner@acme.test")
    with time_machine.travel(timezone.now() - timezone.timedelta(minutes=11), tick=False):
        client.force_login(owner)
    assert client.get(page).status_code == 200  # looking needs no confirmation
    response = client.post(page, {"url": receiver.url, "events": ["token.created"]})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/confirm/")
    assert not Endpoint.objects.exists()
