"""/metrics: off by default, bearer-protected when METRICS_TOKEN is set, and counting what it
says it counts. JSON request logs: one line per request, never a token."""

import json
import logging

import pytest
from prometheus_client import REGISTRY

from tests.factories import make_personal_token

METRICS_TOKEN = "scrape-secret-0123456789"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = METRICS_TOKEN
    return settings


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_metrics_are_off_by_default(client, settings):
    assert settings.METRICS_ENABLED is False
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_metrics_token(client, db, metrics_on):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", **bearer("wrong")).status_code == 401
    response = client.get("/metrics", **bearer(METRICS_TOKEN))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"tokendesk_token_verifications_total" in response.content


def test_without_a_metrics_token_the_endpoint_is_open(client, db, metrics_on):
    metrics_on.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_verifications_are_counted_by_outcome_and_timed(client, user, metrics_on):
    issued = make_personal_token(user)
    valid = sample("tokendesk_token_verifications_total", outcome="valid")
    malformed = sample("tokendesk_token_verifications_total", outcome="malformed")
    bad_checksum = sample("tokendesk_token_verifications_total", outcome="bad_checksum")
    timed = sample("tokendesk_token_verify_seconds_count")
    typo = issued.plaintext[:-1] + ("A" if issued.plaintext[-1] != "A" else "B")

    assert client.get("/api/v1/whoami", **bearer(issued.plaintext)).status_code == 200
    assert client.get("/api/v1/whoami", **bearer("nonsense")).status_code == 401
    assert client.get("/api/v1/whoami", **bearer(typo)).status_code == 401

    assert sample("tokendesk_token_verifications_total", outcome="valid") == valid + 1
    assert sample("tokendesk_token_verifications_total", outcome="malformed") == malformed + 1
    assert sample("tokendesk_token_verifications_total", outcome="bad_checksum") == bad_checksum + 1
    assert sample("tokendesk_token_verify_seconds_count") == timed + 3
    scraped = client.get("/metrics", **bearer(METRICS_TOKEN)).content.decode()
    assert 'tokendesk_token_verifications_total{outcome="revoked"}' in scraped


@pytest.mark.django_db
def test_requests_are_counted_by_route_template_and_status(client, user, metrics_on):
    issued = make_personal_token(user)
    labels = {"route": "api/v1/whoami", "method": "GET", "status": "200"}
    before = sample("tokendesk_http_requests_total", **labels)
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    unmatched_before = sample("tokendesk_http_requests_total", **unmatched)
    client.get("/api/v1/whoami", **bearer(issued.plaintext))
    client.get("/no/such/page")
    assert sample("tokendesk_http_requests_total", **labels) == before + 1
    assert sample("tokendesk_http_requests_total", **unmatched) == unmatched_before + 1
    scraped = client.get("/metrics", **bearer(METRICS_TOKEN)).content.decode()
    assert 'tokendesk_http_request_seconds_bucket{le="0.001",route="api/v1/whoami"}' in scraped


def test_verifications_are_not_counted_while_metrics_are_off(client, db, user, settings):
    before = sample("tokendesk_token_verifications_total", outcome="malformed")
    client.get("/api/v1/whoami", **bearer("nonsense"))
    assert sample("tokendesk_token_verifications_total", outcome="malformed") == before


@pytest.mark.django_db
def test_json_request_logs_name_the_route_and_token_id_never_the_token(
    client, user, settings, caplog
):
    settings.LOG_REQUESTS_JSON = True
    issued = make_personal_token(user)
    with caplog.at_level(logging.INFO, logger="tokendesk.requests"):
        client.get("/api/v1/whoami", **bearer(issued.plaintext))
        # A token pasted into a path or a query string stays out of the log too.
        client.get(f"/api/v1/tokens/{issued.plaintext}?token={issued.plaintext}")
        client.get("/api/v1/whoami", **bearer(issued.plaintext[:-2] + "zz"))
    lines = [r.getMessage() for r in caplog.records if r.name == "tokendesk.requests"]
    assert len(lines) == 3
    for line in lines:
        assert issued.plaintext not in line and issued.plaintext[:-2] not in line
        assert issued.token.digest not in line
    first, second, third = (json.loads(line) for line in lines)
    assert first["route"] == "api/v1/whoami" and first["status"] == 200
    assert first["token_id"] == issued.token.pk and first["method"] == "GET"
    assert isinstance(first["duration_ms"], float)
    assert second["token_id"] is None or second["token_id"] == issued.token.pk
    assert "tokens/" in second["route"] and issued.plaintext not in second["route"]
    assert (third["status"], third["token_id"]) == (401, None)


def test_request_logs_are_off_by_default(client, db, settings, caplog):
    assert settings.LOG_REQUESTS_JSON is False
    with caplog.at_level(logging.INFO, logger="tokendesk.requests"):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "tokendesk.requests"]
