"""Every /api/v1/ answer is JSON, errors are `{"error", "detail"}`, and the OpenAPI schema
documents them and the rules the service applies."""

import json
import runpy
from pathlib import Path

import pytest
from django.conf import settings

from orgs.models import Deployment
from orgs.services import ENVIRONMENT_MAX_LENGTH
from tests.api.world import build_world
from tokens.middleware import MAX_API_URL_LENGTH


@pytest.fixture
def auth(db):
    return {"Authorization": f"Bearer {build_world().callers['pat_owner']}"}


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"}
    return body


def test_a_body_over_the_limit_answers_413(client, auth):
    body = json.dumps({"name": "x", "description": "y" * (5 * 1024 * 1024)})
    response = client.post("/api/v1/tokens", body, content_type="application/json", headers=auth)
    assert _error(response, 413)["error"] == "payload_too_large"
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]


@pytest.mark.parametrize("body", ["{not json", '{"name": "x"', "\xff\xfe"])
def test_a_body_that_is_not_json_answers_400(client, auth, body):
    response = client.post("/api/v1/tokens", body, content_type="application/json", headers=auth)
    assert _error(response, 400)["error"] == "invalid_json"


def test_a_url_over_the_limit_answers_414(client, auth):
    response = client.get("/api/v1/tokens?org=" + "a" * MAX_API_URL_LENGTH, headers=auth)
    assert _error(response, 414)["error"] == "uri_too_long"


def test_gunicorn_lets_the_app_decide_on_long_urls():
    config = runpy.run_path(str(Path(settings.BASE_DIR, "gunicorn.conf.py")))
    assert config["limit_request_line"] > MAX_API_URL_LENGTH + len("DELETE  HTTP/1.1")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/api/v1/orgs/acme/projects/web/nope", 404),
        ("put", "/api/v1/whoami", 405),
        ("delete", "/api/v1/orgs", 405),
    ],
)
def test_unknown_paths_and_methods_answer_json(client, auth, method, path, status):
    _error(getattr(client, method)(path, headers=auth), status)


def test_org_and_project_together_are_refused(client, auth):
    body = {"name": "x", "org": "acme", "project": "acme/web"}
    response = client.post("/api/v1/tokens", body, content_type="application/json", headers=auth)
    assert _error(response, 422)["error"] == "validation_error"
    assert "either org or project" in response.json()["detail"]


def test_null_counts_as_not_given(client, auth):
    body = {"name": "x", "org": None, "project": "acme/web", "role": None}
    response = client.post("/api/v1/tokens", body, content_type="application/json", headers=auth)
    assert response.status_code == 201


@pytest.fixture
def schema(client, db):
    return client.get("/api/v1/openapi.json").json()


def _body_schema(schema, path, method="post"):
    ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_the_schema_says_org_and_project_exclude_each_other(schema):
    exclusive = [
        sorted(rule["not"]["required"]) for rule in _body_schema(schema, "/api/v1/tokens")["allOf"]
    ]
    assert ["org", "project"] in exclusive
    assert ["permissions", "role"] in exclusive


def test_the_schema_and_the_service_agree_on_the_environment(schema, client, auth):
    path = "/api/v1/orgs/{org}/projects/{project}/deployments"
    environment = _body_schema(schema, path)["properties"]["environment"]
    column = Deployment._meta.get_field("environment").max_length
    assert environment["maxLength"] == ENVIRONMENT_MAX_LENGTH == column
    too_long = {"ref": "abc", "environment": "e" * (column + 1)}
    response = client.post(
        "/api/v1/orgs/acme/projects/web/deployments",
        too_long,
        content_type="application/json",
        headers=auth,
    )
    assert _error(response, 422)["error"] == "validation_error"


def test_every_operation_documents_the_errors_it_can_answer(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"414", "422", "503"} <= documented, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= documented, (method, path)
