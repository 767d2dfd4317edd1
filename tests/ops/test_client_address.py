"""The client address comes from X-Forwarded-For only through proxies the operator trusts."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from config.env import env_networks
from orgs.audit import client_ip
from orgs.models import AuditEvent
from tests.factories import make_personal_token, make_user

requests = RequestFactory()


def address_of(remote_addr: str, forwarded_for: str | None = None) -> str | None:
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return client_ip(requests.get("/", REMOTE_ADDR=remote_addr, **headers))


@pytest.fixture
def behind_proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.7", "2001:db8:ffff::/48"]


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of("10.0.0.2", "198.51.100.9") == "10.0.0.2"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(behind_proxies):
    assert address_of("203.0.113.5", "198.51.100.9") == "203.0.113.5"
    assert address_of("203.0.113.5", "10.0.0.1") == "203.0.113.5"


def test_a_trusted_proxy_in_a_cidr_passes_on_the_client_it_saw(behind_proxies):
    assert address_of("10.1.2.3", "203.0.113.5") == "203.0.113.5"


def test_a_single_trusted_address_counts_as_a_proxy(behind_proxies):
    assert address_of("192.0.2.7", "203.0.113.5") == "203.0.113.5"
    assert address_of("192.0.2.8", "203.0.113.5") == "192.0.2.8"


def test_several_trusted_hops_are_walked_from_the_right(behind_proxies):
    # client → CDN edge (192.0.2.7) → load balancer (10.0.0.3) → app
    assert address_of("10.0.0.3", "203.0.113.5, 192.0.2.7") == "203.0.113.5"


def test_what_the_client_wrote_left_of_its_own_address_is_not_believed(behind_proxies):
    # The client sent "X-Forwarded-For: 198.51.100.1, 10.9.9.9"; the proxy appended its peer.
    forwarded = "198.51.100.1, 10.9.9.9, 203.0.113.5"
    assert address_of("10.0.0.3", forwarded) == "203.0.113.5"


def test_when_every_hop_is_trusted_the_leftmost_is_the_client(behind_proxies):
    assert address_of("10.0.0.3", "10.4.4.4, 10.0.0.9") == "10.4.4.4"


def test_a_trusted_peer_without_the_header_is_the_client(behind_proxies):
    assert address_of("10.0.0.3") == "10.0.0.3"
    assert address_of("10.0.0.3", "") == "10.0.0.3"


def test_ipv6_clients_and_proxies(behind_proxies):
    assert address_of("2001:db8:ffff::1", "2001:db8:1::42") == "2001:db8:1::42"
    assert address_of("2001:db8:1::42", "203.0.113.5") == "2001:db8:1::42"
    assert address_of("10.0.0.3", "[2001:db8:1::42]:51234") == "2001:db8:1::42"


def test_ports_and_ipv4_mapped_addresses_are_normalised(behind_proxies):
    assert address_of("10.0.0.3", "203.0.113.5:51234") == "203.0.113.5"
    assert address_of("::ffff:10.0.0.3", "203.0.113.5") == "203.0.113.5"
    assert address_of("::ffff:203.0.113.5") == "203.0.113.5"


def test_a_malformed_hop_stops_the_walk_at_the_proxy_that_wrote_it(behind_proxies):
    # Left of "unknown" anything could have been written by the client.
    assert address_of("10.0.0.3", "198.51.100.1, unknown") == "10.0.0.3"
    assert address_of("10.0.0.3", "198.51.100.1, 192.0.2.7, not-an-ip") == "10.0.0.3"
    assert address_of("10.0.0.3", "198.51.100.1, garbage, 192.0.2.7") == "192.0.2.7"
    assert address_of("10.0.0.3", "[2001:db8::1") == "10.0.0.3"
    assert address_of("10.0.0.3", ",,") == "10.0.0.3"


def test_a_peer_that_is_no_ip_address_has_no_client_address(behind_proxies):
    assert address_of("") is None
    assert address_of("not-an-address", "203.0.113.5") is None


def test_trusted_proxies_from_the_environment_are_checked(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, ::1,192.0.2.7")
    assert env_networks("TRUSTED_PROXIES") == ["10.0.0.0/8", "::1", "192.0.2.7"]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
    with pytest.raises(ImproperlyConfigured, match=r"'proxy\.internal' is neither"):
        env_networks("TRUSTED_PROXIES")


def test_the_audit_log_and_the_leak_limit_see_the_client_behind_the_proxy(
    client, db, settings, monkeypatch
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    monkeypatch.setattr("tokens.api.routes.LEAK_REPORTS_PER_WINDOW", 1)
    cache.clear()
    leaked = make_personal_token(make_user("leaky@example.test"))

    def report(client_address: str) -> int:
        return client.post(
            "/api/v1/token-leaks",
            {"tokens": [leaked.plaintext]},
            content_type="application/json",
            REMOTE_ADDR="10.0.0.3",
            HTTP_X_FORWARDED_FOR=client_address,
        ).status_code

    assert report("203.0.113.5") == 200
    assert AuditEvent.objects.get(action="token.leak_report").ip == "203.0.113.5"
    # The limit counts the client, not the proxy all clients come through.
    assert report("203.0.113.5") == 429
    assert report("203.0.113.6") == 200
