"""Every authenticated API answer says when the calling token expires, if it does."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_org, make_personal_token
from tokens.models import Token

HEADER = "Tokendesk-Token-Expires"


def bearer(plaintext):
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def expiring(user):
    issued = make_personal_token(user, expires_in_days=30)
    # A time with microseconds: the header carries whole seconds, in UTC.
    expires_at = datetime(2031, 5, 6, 7, 8, 9, 987654, tzinfo=UTC)
    Token.objects.filter(pk=issued.token.pk).update(expires_at=expires_at)
    return issued.plaintext


def test_a_success_carries_the_expiry_in_rfc_3339_utc(client, expiring):
    response = client.get("/api/v1/whoami", headers=bearer(expiring))

    assert response.status_code == 200
    assert response[HEADER] == "2031-05-06T07:08:09Z"
    parsed = datetime.fromisoformat(response[HEADER].replace("Z", "+00:00"))
    assert parsed == datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_an_error_after_authentication_carries_it_too(client, expiring):
    # The token lacks tokens:write (default permissions), so this is a 403 after auth.
    response = client.post(
        "/api/v1/tokens", {"name": "x"}, content_type="application/json", headers=bearer(expiring)
    )

    assert response.status_code == 403
    assert response[HEADER] == "2031-05-06T07:08:09Z"


def test_a_token_without_expiry_sends_no_header(client, user):
    plaintext = make_personal_token(user, expires_in_days=None).plaintext

    response = client.get("/api/v1/whoami", headers=bearer(plaintext))

    assert response.status_code == 200
    assert HEADER not in response


def test_an_unauthenticated_answer_sends_no_header(client, user):
    make_org("acme", owner=user.email)
    response = client.get("/api/v1/whoami", headers=bearer("tdk_pat_nope"))

    assert response.status_code == 401
    assert HEADER not in response
    assert HEADER not in client.get("/cli/")


def test_the_header_follows_the_remaining_lifetime(client, user):
    issued = make_personal_token(user, expires_in_days=13)

    response = client.get("/api/v1/whoami", headers=bearer(issued.plaintext))

    sent = datetime.fromisoformat(response[HEADER].replace("Z", "+00:00"))
    assert timedelta(days=12, hours=23) < sent - datetime.now(UTC) <= timedelta(days=13)
