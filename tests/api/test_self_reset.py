"""A token resetting its own secret through the API would lock its caller out, so the API
asks for `?confirm=self` first (docs/api.md)."""

import pytest

from orgs.models import AuditEvent, Membership
from tests.api.world import build_world
from tests.factories import make_ci_token
from tokens.models import Token

API = "/api/v1"
SELF_RESET_DETAIL = (
    "This token would reset itself and stop working; repeat with ?confirm=self to get its "
    "new secret in this answer."
)


def call(client, token, method, path):
    return getattr(client, method)(API + path, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def admin_token(world):
    return Token.objects.get(kind=Token.Kind.CI, name="admin")


def test_a_token_resetting_itself_is_refused_and_keeps_working(client, world, admin_token):
    before = Token.objects.values_list("digest", flat=True).get(pk=admin_token.pk)
    response = call(client, world.callers["ci_admin"], "post", f"/tokens/{admin_token.pk}/reset")
    assert response.status_code == 409
    assert response.json() == {
        "error": "self_reset_requires_confirmation",
        "detail": SELF_RESET_DETAIL,
    }
    assert Token.objects.values_list("digest", flat=True).get(pk=admin_token.pk) == before
    assert not AuditEvent.objects.filter(action="token.reset").exists()
    assert call(client, world.callers["ci_admin"], "get", "/whoami").status_code == 200


def test_with_confirm_self_it_answers_its_new_secret(client, world, admin_token):
    old = world.callers["ci_admin"]
    response = call(client, old, "post", f"/tokens/{admin_token.pk}/reset?confirm=self")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new = response.json()["token"]
    assert response.json()["id"] == admin_token.pk
    assert call(client, old, "get", "/whoami").status_code == 401
    assert call(client, new, "get", "/whoami").json()["token"]["id"] == admin_token.pk


def test_confirm_is_not_needed_to_reset_another_token(client, world):
    other = Token.objects.get(kind=Token.Kind.CI, name="target ci")
    response = call(client, world.callers["ci_admin"], "post", f"/tokens/{other.pk}/reset")
    assert response.status_code == 200
    assert call(client, world.callers["ci_admin"], "get", "/whoami").status_code == 200


def test_a_confirmation_other_than_self_is_refused_as_bad_input(client, world, admin_token):
    response = call(
        client,
        world.callers["ci_admin"],
        "post",
        f"/tokens/{admin_token.pk}/reset?confirm=yes",
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert "confirm" in response.json()["detail"]


def test_a_token_with_an_expiry_cannot_reset_itself_even_confirmed(client, world):
    owner = Membership.objects.get(organization=world.acme, role="owner").user
    issued = make_ci_token(
        world.acme, owner, name="expiring admin", role="admin", expires_in_days=30
    )
    response = call(
        client, issued.plaintext, "post", f"/tokens/{issued.token.pk}/reset?confirm=self"
    )
    # A reset starts the lifetime again: a token may not extend its own life.
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert call(client, issued.plaintext, "get", "/whoami").status_code == 200


@pytest.mark.parametrize("verb", ["reset", "regenerate"])
def test_the_schema_documents_the_confirmation(client, db, verb):
    schema = client.get(f"{API}/openapi.json").json()
    operation = schema["paths"][f"/api/v1/tokens/{{token_id}}/{verb}"]["post"]
    (confirm,) = [p for p in operation["parameters"] if p["name"] == "confirm"]
    assert confirm["in"] == "query" and not confirm["required"]
    assert "self_reset_requires_confirmation" in confirm["description"]
    assert "409" in operation["responses"]
