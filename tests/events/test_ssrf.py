"""Endpoint URLs that reach loopback, private, link-local or metadata addresses are refused
when saved and again at delivery time."""

import socket

import pytest

from events import ssrf
from events.models import Delivery
from lib.errors import RuleError
from tests import factories
from tests.events.conftest import add_endpoint


@pytest.fixture
def strict(settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://10.0.0.5/hook",
        "https://172.16.3.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://100.64.0.1/hook",
        "https://localhost/hook",  # a name resolving to a private address
        "https://localhost.:8443/hook",
    ],
)
def test_internal_targets_are_refused(strict, url):
    with pytest.raises(ssrf.UnsafeTarget):
        ssrf.check(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",  # plain HTTP
        "ftp://93.184.215.14/hook",
        "https://user:pw@93.184.215.14/hook",
        "https:///hook",
        "https://no-such-host.invalid/hook",
    ],
)
def test_malformed_or_plain_http_urls_are_refused(strict, url):
    with pytest.raises(ssrf.UnsafeTarget):
        ssrf.check(url)


def test_a_public_address_is_allowed_and_pinned(strict):
    target = ssrf.check("https://93.184.215.14:8443/hooks/in?x=1")
    assert (target.host, target.port, target.path, target.addresses) == (
        "93.184.215.14", 8443, "/hooks/in?x=1", ("93.184.215.14",),
    )  # fmt: skip


def test_every_resolved_address_must_be_public(strict, monkeypatch):
    """A name with one public and one private address is refused: otherwise the private
    one could be picked."""

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.1.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(ssrf.UnsafeTarget, match=r"10\.1\.1\.1"):
        ssrf.check("https://hooks.example.com/in")


def test_metadata_stays_refused_when_private_targets_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    with pytest.raises(ssrf.UnsafeTarget, match="metadata"):
        ssrf.check("https://169.254.169.254/")
    assert ssrf.check("https://10.0.0.5/").address == "10.0.0.5"


def test_saving_refuses_with_the_reason(strict, db):
    organization = factories.make_org("acme")
    with pytest.raises(RuleError, match="loopback") as refused:
        add_endpoint(organization, "https://127.0.0.1/hook")
    assert refused.value.field == "url"


def test_delivery_checks_again_and_sends_nothing_to_a_now_private_target(
    db, receiver, settings, django_capture_on_commit_callbacks
):
    """Saved while allowed (think: a name that resolved publicly then, DNS rebinding now)."""
    organization = factories.make_org("acme", owner="owner@acme.test")
    owner = organization.memberships.get().user
    endpoint, _ = add_endpoint(organization, receiver.url, ["token.created"], owner)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ci_token(organization, owner)

    [delivery] = Delivery.objects.filter(endpoint=endpoint)
    assert delivery.status == Delivery.Status.RETRYING
    assert "loopback" in delivery.error
    assert receiver.received == []
