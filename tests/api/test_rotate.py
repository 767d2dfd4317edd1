"""POST /api/v1/tokens/{id}/rotate: a new secret, the old one kept for the overlap."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from orgs.models import AuditEvent
from tests.api.world import build_world
from tokens.models import Token

API = "/api/v1"


def post(client, token, path, body):
    return client.post(
        API + path,
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def whoami(client, token) -> int:
    return client.get(API + "/whoami", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture
def world(db):
    return build_world()


def test_rotating_answers_the_new_secret_and_keeps_the_old_one_for_the_overlap(client, world):
    target = Token.objects.get(kind=Token.Kind.CI, name="target ci")
    old = world.callers["ci_admin"]
    response = post(client, old, f"/tokens/{target.pk}/rotate", {"overlap_hours": 1})
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["id"] == target.pk and body["name"] == "target ci" and body["token"]
    assert AuditEvent.objects.filter(action="token.rotate", target_id=target.pk).count() == 1


def test_a_token_rotating_itself_needs_no_confirmation_and_keeps_working(client, world):
    caller = Token.objects.get(kind=Token.Kind.CI, name="admin")
    old = world.callers["ci_admin"]
    response = post(client, old, f"/tokens/{caller.pk}/rotate", {"overlap_hours": 24})
    assert response.status_code == 200
    new = response.json()["token"]
    assert whoami(client, old) == 200 and whoami(client, new) == 200
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        assert whoami(client, old) == 401
        assert whoami(client, new) == 200


def test_until_first_use_ends_the_overlap_on_the_new_secrets_first_call(client, world):
    caller = Token.objects.get(kind=Token.Kind.CI, name="admin")
    old = world.callers["ci_admin"]
    body = {"overlap_hours": 168, "until_first_use": True}
    new = post(client, old, f"/tokens/{caller.pk}/rotate", body).json()["token"]
    assert whoami(client, old) == 200
    assert whoami(client, new) == 200
    assert whoami(client, old) == 401


@pytest.mark.parametrize(
    "body",
    [{}, {"overlap_hours": 2}, {"overlap_hours": 0}, {"overlap_hours": "24h"},
     {"overlap_hours": 24, "until_first_use": "maybe"}],
)  # fmt: skip
def test_bad_input_is_a_422_and_changes_nothing(client, world, body):
    target = Token.objects.get(kind=Token.Kind.CI, name="target ci")
    response = post(client, world.callers["ci_admin"], f"/tokens/{target.pk}/rotate", body)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert Token.objects.get(pk=target.pk).digest == target.digest
    assert not AuditEvent.objects.filter(action="token.rotate").exists()


def test_the_operation_is_in_the_openapi_schema(client, db):
    schema = client.get(API + "/openapi.json").json()
    operation = schema["paths"]["/api/v1/tokens/{token_id}/rotate"]["post"]
    assert operation["operationId"] == "rotate_token"
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    overlap = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert overlap["overlap_hours"]["enum"] == [1, 24, 168]
