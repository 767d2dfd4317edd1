"""Per-token IP allowlists (tokens/allowlist.py and the API's answers)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from lib.errors import RuleError
from orgs.models import AuditEvent
from tests.factories import make_personal_token
from tokens import allowlist
from tokens.models import Token

API = "/api/v1"


# Matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "address", "expected"),
    [
        (["203.0.113.0/24"], "203.0.113.0", True),
        (["203.0.113.0/24"], "203.0.113.255", True),
        (["203.0.113.0/24"], "203.0.112.255", False),
        (["203.0.113.0/24"], "203.0.114.0", False),
        (["203.0.113.7/32"], "203.0.113.7", True),
        (["203.0.113.7/32"], "203.0.113.8", False),
        (["0.0.0.0/0"], "198.51.100.1", True),
        (["0.0.0.0/0"], "2001:db8::1", False),  # v4 ranges never match v6 addresses
        (["2001:db8::/32"], "2001:db8::", True),
        (["2001:db8::/32"], "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", True),
        (["2001:db8::/32"], "2001:db9::", False),
        (["2001:db8::1/128"], "2001:db8::1", True),
        (["2001:db8::1/128"], "2001:db8::2", False),
        (["::/0"], "203.0.113.7", False),
        (["203.0.113.0/24"], "::ffff:203.0.113.9", True),  # IPv4-mapped IPv6
        (["203.0.113.0/24", "2001:db8::/32"], "2001:db8::5", True),
        ([], "198.51.100.1", True),  # no allowlist: anywhere
        (["203.0.113.0/24"], None, False),
        (["203.0.113.0/24"], "not an address", False),
    ],
)
def test_cidr_matching_for_v4_and_v6_including_edges(allowed, address, expected):
    assert allowlist.allows(allowlist.clean(allowed), address) is expected


def test_entries_are_normalized_and_deduplicated():
    assert allowlist.clean(
        [" 203.0.113.7 ", "203.0.113.9/24", "2001:DB8:0:0::1", "203.0.113.0/24", ""]
    ) == ["203.0.113.7/32", "203.0.113.0/24", "2001:db8::1/128"]


@pytest.mark.parametrize(
    "bad", ["203.0.113.300", "203.0.113.0/33", "2001:db8::/129", "example.com", "1.2.3.4/x"]
)
def test_a_malformed_entry_is_refused_with_its_field(bad):
    with pytest.raises(RuleError) as caught:
        allowlist.clean(["203.0.113.0/24", bad])
    assert caught.value.field == "allowed_ips" and bad[:20] in caught.value.message


def test_at_most_20_entries():
    twenty = [f"203.0.113.{n}" for n in range(20)]
    assert len(allowlist.clean(twenty)) == 20
    with pytest.raises(RuleError) as caught:
        allowlist.clean([*twenty, "203.0.113.99"])
    assert "at most 20" in caught.value.message


@pytest.mark.parametrize(
    ("narrower", "wider", "expected"),
    [
        (["203.0.113.0/25"], ["203.0.113.0/24"], True),
        (["203.0.113.0/24"], ["203.0.113.0/24"], True),
        (["203.0.112.0/23"], ["203.0.113.0/24"], False),
        (["203.0.113.7"], ["203.0.113.0/24", "2001:db8::/32"], True),
        (["2001:db8:1::/48"], ["2001:db8::/32"], True),
        (["2001:db8::/31"], ["2001:db8::/32"], False),
        ([], ["203.0.113.0/24"], False),  # anywhere is wider than a range
        (["203.0.113.0/24"], [], True),
    ],
)
def test_within(narrower, wider, expected):
    assert allowlist.within(allowlist.clean(narrower), allowlist.clean(wider)) is expected


# Through the API ------------------------------------------------------------------------


def whoami(client, plaintext, address="203.0.113.7", **headers):
    return client.get(
        f"{API}/whoami",
        headers={"Authorization": f"Bearer {plaintext}", **headers},
        REMOTE_ADDR=address,
    )


def test_a_request_from_elsewhere_gets_403_ip_not_allowed_with_the_address(client, user):
    issued = make_personal_token(user, allowed_ips=["203.0.113.0/24", "2001:db8::/32"])
    assert whoami(client, issued.plaintext, "203.0.113.200").status_code == 200
    assert whoami(client, issued.plaintext, "2001:db8::42").status_code == 200
    response = whoami(client, issued.plaintext, "198.51.100.4")
    assert response.status_code == 403
    assert response.json() == {
        "error": "ip_not_allowed",
        "detail": "This token may not be used from your address, 198.51.100.4.",
    }
    assert 'error="ip_not_allowed"' in response["WWW-Authenticate"]


def test_refusals_are_audited_at_most_once_a_minute_per_token(client, user):
    issued = make_personal_token(user, allowed_ips=["203.0.113.0/24"])
    other = make_personal_token(user, name="other", allowed_ips=["203.0.113.0/24"])
    for _ in range(3):
        assert whoami(client, issued.plaintext, "198.51.100.4").status_code == 403
    assert whoami(client, other.plaintext, "198.51.100.5").status_code == 403
    events = AuditEvent.objects.filter(action="token.ip_denied")
    assert sorted(events.values_list("target_id", flat=True)) == sorted(
        [issued.token.pk, other.token.pk]
    )
    assert events.get(target_id=issued.token.pk).data == {"address": "198.51.100.4"}
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert whoami(client, issued.plaintext, "198.51.100.4").status_code == 403
    assert events.filter(target_id=issued.token.pk).count() == 2


def test_a_refused_request_is_not_a_use(client, user):
    issued = make_personal_token(user, allowed_ips=["203.0.113.0/24"])
    whoami(client, issued.plaintext, "198.51.100.4")
    assert Token.objects.get(pk=issued.token.pk).last_used_at is None


def test_the_address_is_the_trusted_proxys_client_never_a_header_alone(client, user, settings):
    issued = make_personal_token(user, allowed_ips=["203.0.113.0/24"])
    forged = {"X-Forwarded-For": "203.0.113.9"}
    assert whoami(client, issued.plaintext, "198.51.100.4", **forged).status_code == 403
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert whoami(client, issued.plaintext, "10.0.0.3", **forged).status_code == 200
    assert whoami(client, issued.plaintext, "10.0.0.3").status_code == 403  # the proxy itself


def create(client, plaintext, body):
    return client.post(
        f"{API}/tokens",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {plaintext}"},
        REMOTE_ADDR="203.0.113.7",
    )


def test_tokens_created_through_the_api_carry_their_allowlist(client, user):
    caller = make_personal_token(user, permissions={"tokens:write", "tokens:read"})
    response = create(
        client,
        caller.plaintext,
        {"name": "n", "permissions": ["tokens:read"], "allowed_ips": ["203.0.113.9/24"]},
    )
    assert response.status_code == 201
    assert response.json()["allowed_ips"] == ["203.0.113.0/24"]
    assert Token.objects.get(name="n").allowed_ips == ["203.0.113.0/24"]


@pytest.mark.parametrize(
    ("allowed", "status"),
    [
        (["203.0.113.0/25"], 201),
        (["203.0.113.0/24"], 201),
        (["203.0.112.0/23"], 403),
        (None, 403),
        ([], 403),
    ],
)
def test_a_restricted_token_cannot_create_a_wider_allowlist(client, user, allowed, status):
    caller = make_personal_token(
        user, permissions={"tokens:write", "tokens:read"}, allowed_ips=["203.0.113.0/24"]
    )
    body = {"name": "n", "permissions": ["tokens:read"]}
    if allowed is not None:
        body["allowed_ips"] = allowed
    response = create(client, caller.plaintext, body)
    assert response.status_code == status, response.content
    if status == 403:
        assert response.json()["error"] == "insufficient_scope"
        assert not Token.objects.filter(name="n").exists()


@pytest.mark.parametrize(
    "allowed",
    [["203.0.113.300"], ["nope"], [f"203.0.113.{n}" for n in range(21)], ["1" * 61]],
)
def test_bad_allowlists_are_a_422_and_nothing_is_saved(client, user, allowed):
    caller = make_personal_token(user, permissions={"tokens:write", "tokens:read"})
    body = {"name": "n", "permissions": ["tokens:read"], "allowed_ips": allowed}
    response = create(client, caller.plaintext, body)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert not Token.objects.filter(name="n").exists()


def test_verification_with_an_allowlist_is_still_one_query(client, user, django_assert_num_queries):
    from tokens.services import token_verify

    issued = make_personal_token(user, allowed_ips=["203.0.113.0/24"])
    token_verify(issued.plaintext, ip="203.0.113.1")  # first use writes last_used_at
    with django_assert_num_queries(1):
        assert token_verify(issued.plaintext, ip="203.0.113.1").allowed_ips == ("203.0.113.0/24",)


# In the dialogs ---------------------------------------------------------------------------


@pytest.fixture
def acme_owner(db):
    from orgs.models import Membership
    from tests.factories import make_org, make_project

    organization = make_org("acme", owner="owner@x.test")
    make_project(organization)
    return Membership.objects.get(organization=organization).user


def _urls():
    from django.urls import reverse

    return [
        (reverse("tokens:personal-create"), {"name": "n", "permissions": ["projects:read"]}),
        (reverse("tokens:ci-create", args=["acme"]), {"name": "n", "role": "ci"}),
        (reverse("tokens:deployment-generate", args=["acme", "web"]), {"name": "n"}),
    ]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["personal", "ci", "deployment"])
def test_a_dialog_saves_the_allowlist_normalized_and_the_table_shows_it(client, acme_owner, index):
    url, body = _urls()[index]
    client.force_login(acme_owner)
    assert 'name="allowed_ips"' in client.get(url, HTTP_HX_REQUEST="true").content.decode()
    response = client.post(url, {**body, "allowed_ips": "203.0.113.9/24\n2001:db8::1"})
    assert response.status_code == 200
    token = Token.objects.get(name="n")
    assert token.allowed_ips == ["203.0.113.0/24", "2001:db8::1/128"]
    assert "Only from 203.0.113.0/24, 2001:db8::1/128" in response.content.decode()


@pytest.mark.parametrize("index", [0, 1, 2], ids=["personal", "ci", "deployment"])
@pytest.mark.parametrize(
    "allowed", ["203.0.113.0/33", "\n".join(f"203.0.113.{n}" for n in range(21))]
)
def test_a_bad_allowlist_is_a_message_next_to_the_field_and_nothing_is_saved(
    client, acme_owner, index, allowed
):
    url, body = _urls()[index]
    client.force_login(acme_owner)
    response = client.post(url, {**body, "allowed_ips": allowed}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_allowed_ips_error"' in html
    assert ("not an IPv4 or IPv6" in html) or ("at most 20" in html)
    assert not Token.objects.filter(name="n").exists()
