"""Ids no database column can hold are refused next to the field, not sent to the driver
(SQLite's overflows on anything past 2**63 - 1)."""

import pytest
from django.urls import reverse

from orgs.models import Membership
from tests.factories import make_org, make_project


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test")


@pytest.fixture
def owner_client(client, org):
    client.force_login(Membership.objects.get(user__email="owner@x.test").user)
    return client


@pytest.mark.parametrize(
    "maintainer", ["9223372036854775808", "99999999999999999999999", "-1", "0", "³", "1e3"]
)
def test_a_maintainer_id_beyond_the_column_is_refused_next_to_the_field(
    owner_client, org, maintainer
):
    web = make_project(org, "web")
    response = owner_client.post(
        reverse("orgs:project-edit", args=["acme", "web"]),
        {"name": "Web", "maintainers": [maintainer]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "is not a valid value" in response.content.decode()
    assert not web.maintainers.exists()


def test_a_real_member_id_still_saves(owner_client, org):
    web = make_project(org, "web")
    owner = Membership.objects.get(user__email="owner@x.test").user
    response = owner_client.post(
        reverse("orgs:project-edit", args=["acme", "web"]),
        {"name": "Web", "maintainers": [str(owner.pk)]},
    )
    assert response.status_code == 302
    assert list(web.maintainers.all()) == [owner]
