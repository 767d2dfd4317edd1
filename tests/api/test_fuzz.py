"""Property-based fuzz of the API from its own OpenAPI schema: whatever the input, the API
answers a success or a documented JSON error, never a 500, and what it answers matches what
the schema says (status codes, content types, response bodies).

Two phases, on whichever database the suite runs on:
- each operation alone, with inputs drawn from its schema;
- stateful: sequences that follow OpenAPI links (the schema's `links` are added here, since
  django-ninja does not emit them), so a created token is then reset and revoked, and
  listed organizations and projects are then read and deployed to.

Bounded (examples, steps) so it takes a few seconds on two cores."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from orgs.models import Membership
from tests.api.world import build_world, personal

API = "/api/v1"
# Not negative_data_rejection: the API ignores query parameters it does not know, as most
# APIs do, and that check counts them as invalid input that should have been refused.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# (from method, from path, status) → {name: (to method, to path, {parameter: expression})}
NEW_ID = "$response.body#/id"
LINKS = {
    ("post", "/tokens", "201"): {
        "ResetIt": ("post", "/tokens/{token_id}/reset", {"token_id": NEW_ID}),
        "RevokeIt": ("delete", "/tokens/{id_or_prefix}", {"id_or_prefix": NEW_ID}),
    },
    ("post", "/tokens/{token_id}/reset", "200"): {
        "RevokeIt": ("delete", "/tokens/{id_or_prefix}", {"id_or_prefix": NEW_ID}),
        "ResetAgain": (
            "post", "/tokens/{token_id}/reset", {"token_id": NEW_ID},
        ),
    },
    ("get", "/orgs", "200"): {
        "ItsProjects": ("get", "/orgs/{org}/projects", {"org": "$response.body#/items/0/slug"}),
        "ItsAudit": ("get", "/orgs/{org}/audit", {"org": "$response.body#/items/0/slug"}),
    },
    ("get", "/orgs/{org}/projects", "200"): {
        "Deploy": (
            "post",
            "/orgs/{org}/projects/{project}/deployments",
            {"org": "$response.body#/items/0/org", "project": "$response.body#/items/0/slug"},
        ),
        "Deployments": (
            "get",
            "/orgs/{org}/projects/{project}/deployments",
            {"org": "$response.body#/items/0/org", "project": "$response.body#/items/0/slug"},
        ),
    },
}  # fmt: skip


def _with_links(raw: dict) -> dict:
    raw = copy.deepcopy(raw)
    paths = raw["paths"]
    for (method, path, status), links in LINKS.items():
        response = paths[API + path][method]["responses"][status]
        response["links"] = {
            name: {"operationId": paths[API + to_path][to_method]["operationId"], "parameters": p}
            for name, (to_method, to_path, p) in links.items()
        }
    return raw


_loaded = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", application)
schema = schemathesis.openapi.from_dict(_with_links(_loaded.raw_schema))
schema.app = application
schema.location = f"{API}/openapi.json"

# No example database and no shrinking: a failure is reported as first found, and a run
# does not depend on what an earlier one stored.
FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
STATEFUL_SETTINGS = settings(FUZZ_SETTINGS, max_examples=30, stateful_step_count=6)


@contextmanager
def _rolled_back() -> Iterator[None]:
    """Each example starts from the same world: what it wrote is rolled back (and the leak
    report rate limit forgotten), so Hypothesis sees the same answers when it replays."""
    cache.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def world(db) -> Iterator:
    # Like Django's test client: keep the test's connection (and its transaction) open
    # across the WSGI calls.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield build_world()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _error_shape(ctx, response, case) -> bool | None:
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "detail"}, response.text
    return None


@schema.parametrize()
@FUZZ_SETTINGS
def test_each_operation_answers_as_documented(case, world):
    with _rolled_back():
        response = case.call(headers={"Authorization": f"Bearer {world.callers['pat_owner']}"})
    case.validate_response(response, checks=CHECKS, additional_checks=[_error_shape])


def test_linked_sequences_answer_as_documented(world):
    owner = Membership.objects.get(organization=world.acme, role="owner").user
    scenarios = iter(range(1_000_000))

    class Sequences(schema.as_state_machine()):
        def setup(self) -> None:
            self.scenario = _rolled_back()
            self.scenario.__enter__()
            # Its own caller: a sequence may revoke or reset the token it calls with.
            self.token = personal(owner, f"fuzz {next(scenarios)}")

        def teardown(self) -> None:
            self.scenario.__exit__(None, None, None)

        def get_call_kwargs(self, case) -> dict:
            return {"headers": {"Authorization": f"Bearer {self.token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=CHECKS, additional_checks=[_error_shape])

    Sequences.run(settings=STATEFUL_SETTINGS)
