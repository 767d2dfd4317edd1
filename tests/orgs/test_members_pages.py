"""The members page at thousands of members: one page at a time, the same queries at any size."""

from django.contrib.auth.hashers import make_password
from django.urls import reverse

from accounts.models import User
from lib.ui import PAGE_SIZE
from orgs.models import Membership
from tests.factories import make_org


def add_members(org, count: int) -> None:
    unusable = make_password(None)
    users = User.objects.bulk_create(
        [User(email=f"m{i:05d}@x.test", password=unusable) for i in range(count)]
    )
    Membership.objects.bulk_create(
        [Membership(user=user, organization=org, role="member") for user in users]
    )


def rows(response) -> int:
    return response.content.decode().count('<tr id="member-')


def test_members_come_a_page_at_a_time_with_the_same_queries(
    client, user, django_assert_num_queries
):
    org = make_org("acme", owner=user.email)
    client.force_login(user)
    url = reverse("orgs:members", args=["acme"])
    client.get(url)
    with django_assert_num_queries(11) as small:
        assert rows(client.get(url)) == 1
    add_members(org, PAGE_SIZE + 20)
    with django_assert_num_queries(len(small.captured_queries)):
        first = client.get(url)
    assert rows(first) == PAGE_SIZE
    body = first.content.decode()
    assert f"Page 1 of 2 · {PAGE_SIZE + 21} members" in body
    assert "?page=2" in body
    second = client.get(url, {"page": 2})
    assert rows(second) == 21
    assert f"m{PAGE_SIZE + 19:05d}@x.test" in second.content.decode()
