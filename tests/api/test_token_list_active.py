"""GET /api/v1/tokens?active=: usable tokens, or revoked and expired ones; unset lists all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orgs.audit import Actor
from tests.factories import make_personal_token
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import token_revoke


@pytest.fixture
def tokens(user):
    caller = make_personal_token(user, name="caller", permissions=perms.PERMISSIONS)
    revoked = make_personal_token(user, name="revoked")
    token_revoke(token=revoked.token, actor=Actor(user=user))
    expired = make_personal_token(user, name="expired")
    Token.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    make_personal_token(user, name="usable")
    return caller.plaintext


def names(client, caller, query=""):
    response = client.get(f"/api/v1/tokens{query}", headers={"Authorization": f"Bearer {caller}"})
    assert response.status_code == 200, response.content
    return sorted(item["name"] for item in response.json()["items"])


def test_unset_lists_every_token(client, tokens):
    assert names(client, tokens) == ["caller", "expired", "revoked", "usable"]


def test_active_true_lists_only_usable_tokens(client, tokens):
    assert names(client, tokens, "?active=true") == ["caller", "usable"]


def test_active_false_lists_revoked_and_expired_tokens(client, tokens):
    assert names(client, tokens, "?active=false") == ["expired", "revoked"]


def test_the_count_follows_the_filter(client, tokens):
    response = client.get(
        "/api/v1/tokens?active=true&limit=1", headers={"Authorization": f"Bearer {tokens}"}
    )
    assert response.json()["count"] == 2
