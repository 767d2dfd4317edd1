import pytest

from orgs.audit import Actor
from tests.factories import make_personal_token
from tokens import format as token_format
from tokens.services import token_revoke

WHOAMI = "/api/v1/whoami"


def call(client, token: str | None = None, scheme: str = "Bearer"):
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return client.get(WHOAMI, headers=headers)


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith(
        'Bearer realm="tokendesk", error="invalid_token"'
    )
    body = response.json()
    assert body["error"] == "invalid_token"
    assert isinstance(body["detail"], str) and body["detail"]


def test_a_valid_token_answers_its_metadata_and_user(client, user):
    issued = make_personal_token(user, name="laptop")
    response = call(client, issued.plaintext)
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"email": user.email}
    token = body["token"]
    assert token["id"] == issued.token.pk
    assert token["name"] == "laptop"
    assert token["kind"] == "personal"
    assert token["preview"] == issued.token.preview
    assert token["permissions"] == ["projects:read", "deployments:write"]
    assert token["org"] is None and token["project"] is None and token["role"] is None
    assert token["expires_at"] is None and token["revoked_at"] is None
    assert token["last_used_at"] is not None
    assert set(token) == {
        "id", "name", "description", "kind", "preview", "org", "project", "role",
        "permissions", "created_at", "expires_at", "last_used_at", "revoked_at",
        "previous_secret_valid_until", "allowed_ips",
    }  # fmt: skip
    assert token["allowed_ips"] == []
    assert token["previous_secret_valid_until"] is None
    assert issued.plaintext not in response.content.decode()
    assert issued.token.digest not in response.content.decode()


@pytest.mark.parametrize(
    ("token", "scheme"),
    [
        (None, "Bearer"),
        ("", "Bearer"),
        ("garbage", "Bearer"),
        ("tdk_pat_" + "a" * 38, "Bearer"),
        ("x" * 10_000, "Bearer"),
    ],
)
def test_missing_or_malformed_tokens_answer_401(client, db, token, scheme):
    assert_invalid_token(call(client, token, scheme))


def test_another_scheme_answers_401_and_never_logs_the_credential(client, user, caplog, settings):
    settings.DEBUG = True
    issued = make_personal_token(user)
    assert_invalid_token(call(client, issued.plaintext, scheme="Token"))
    assert issued.plaintext not in caplog.text


def test_unknown_revoked_and_expired_tokens_answer_401(client, user):
    unknown = token_format.generate("pat", "tdk")
    assert_invalid_token(call(client, unknown))
    issued = make_personal_token(user)
    token_revoke(token=issued.token, actor=Actor(user=user))
    assert_invalid_token(call(client, issued.plaintext))


def test_an_expired_token_answers_401(client, user):
    import time_machine
    from django.utils import timezone

    issued = make_personal_token(user, expires_in_days=1)
    with time_machine.travel(timezone.now() + timezone.timedelta(days=2)):
        assert_invalid_token(call(client, issued.plaintext))


def test_without_a_salt_the_api_answers_503_json(client, user, settings):
    issued = make_personal_token(user)
    settings.TOKEN_HASH_SALT = ""
    response = call(client, issued.plaintext)
    assert response.status_code == 503
    assert response.json()["error"] == "server_misconfigured"
    assert "TOKEN_HASH_SALT" in response.json()["detail"]


def test_the_openapi_schema_is_served(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/whoami" in schema["paths"]
    assert schema["components"]["securitySchemes"]["BearerTokenAuth"]["scheme"] == "bearer"
