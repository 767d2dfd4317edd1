"""SQLite write-locked by another process past the timeout: verification's last-use write
is skipped (logged), so read-only API calls still answer; writes answer 503."""

import sqlite3

import pytest
from django.db import connection

from tests.factories import make_personal_token, make_user
from tokens import permissions as perms
from tokens.models import Token

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="a file write lock is SQLite's: this runs on SQLite"
)


@pytest.fixture
def locked_database(transactional_db):
    """Another connection holds the write lock; ours gives up after 50 ms."""
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
        connection.close()  # the next connection gets the configured timeout back


@pytest.fixture
def issued(transactional_db):
    return make_personal_token(make_user("locked@example.test"), permissions=perms.PERMISSIONS)


def test_a_read_only_call_answers_while_the_last_use_write_is_skipped(
    client, issued, locked_database, caplog
):
    auth = {"Authorization": f"Bearer {issued.plaintext}"}
    response = client.get("/api/v1/whoami", headers=auth)
    assert response.status_code == 200
    assert Token.objects.get(pk=issued.token.pk).last_used_at is None
    assert "skipped _touch" in caplog.text
    assert issued.plaintext not in caplog.text


def test_a_write_answers_503_with_retry_after(client, issued, locked_database):
    response = client.post(
        "/api/v1/tokens",
        {"name": "while locked"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {issued.plaintext}"},
    )
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert int(response["Retry-After"]) > 0
