"""Dates at the edges of the calendar are clamped (the page) or refused with a message (the
API), never an overflow: on SQLite the driver converts to UTC and overflowed."""

import pytest
from django.urls import reverse

from orgs.models import Membership
from tests.api.world import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def owner_client(client, world):
    client.force_login(Membership.objects.get(organization=world.acme, role="owner").user)
    return client


@pytest.mark.parametrize(
    "query", ["until=9999-12-31", "since=9999-12-31", "since=0001-01-01&until=9999-12-31"]
)
def test_the_audit_page_takes_the_last_and_first_days(owner_client, query):
    response = owner_client.get(reverse("orgs:audit", args=["acme"]) + "?" + query)
    assert response.status_code == 200


def test_the_last_day_still_lists_every_event(owner_client):
    response = owner_client.get(reverse("orgs:audit", args=["acme"]) + "?until=9999-12-31")
    assert "Token created" in response.content.decode()


def _audit(client, world, query):
    return client.get(
        f"/api/v1/orgs/acme/audit?{query}",
        headers={"Authorization": f"Bearer {world.callers['pat_owner']}"},
    )


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("since=9999-12-31T23:59:59-01:00", "since"),
        ("until=0001-01-01T00:00:00%2B01:00", "until"),
        ("until=0.5", "until"),
        ("since=1700000000", "since"),
    ],
)
def test_the_api_refuses_times_outside_the_calendar_or_not_iso_8601(client, world, query, named):
    response = _audit(client, world, query)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert named in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        "since=9999-12-31T23:59:59Z",
        "until=0001-01-01T00:00:00Z",
        "since=2025-01-01T00:00:00",  # no offset: UTC
        "since=2025-01-01T00:00:00%2B14:00",
        "until=2999-01-01",
    ],
)
def test_the_api_takes_every_time_the_calendar_holds(client, world, query):
    assert _audit(client, world, query).status_code == 200
