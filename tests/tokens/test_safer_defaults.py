"""Safer defaults (issue 13): token dialogs start at 30 days, "No expiration" carries a
warning, deployment tokens get a label, an expiry and rows with distinct accessible names."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orgs.models import Membership
from tests.factories import make_deployment_token, make_org, make_project
from tokens.models import Token

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def org(db):
    organization = make_org("acme", owner="owner@x.test")
    make_project(organization)
    return organization


@pytest.fixture
def owner_client(client, org):
    client.force_login(Membership.objects.get(user__email="owner@x.test").user)
    return client


def selected_expiry(html: str) -> str:
    select = re.search(r'<select name="expires_in_days".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]*)"[^>]*selected', select).group(1)


@pytest.mark.parametrize(
    "url",
    [
        reverse("tokens:personal-create"),
        reverse("tokens:ci-create", args=["acme"]),
        reverse("tokens:deployment-generate", args=["acme", "web"]),
    ],
)
def test_new_token_dialogs_start_at_30_days_with_the_no_expiration_warning(owner_client, url):
    html = owner_client.get(url, **HTMX).content.decode()
    assert selected_expiry(html) == "30"
    assert 'class="expiry-choice"' in html
    assert 'class="no-expiry-warning"' in html and "without an expiration date" in html


def test_under_an_org_limit_the_default_is_the_shorter_of_30_days_and_the_limit(owner_client, org):
    org.max_token_lifetime_days = 14
    org.save()
    html = owner_client.get(reverse("tokens:ci-create", args=["acme"]), **HTMX).content.decode()
    assert selected_expiry(html) == "14"
    assert '<option value=""' not in html  # no "No expiration" where the org sets a limit


def test_a_deployment_token_gets_its_label_and_expiry(owner_client):
    url = reverse("tokens:deployment-generate", args=["acme", "web"])
    response = owner_client.post(url, {"name": "  GitHub   Actions ", "expires_in_days": "7"})
    assert response.status_code == 200
    token = Token.objects.get(kind=Token.Kind.DEPLOYMENT)
    assert token.name == "GitHub Actions"
    assert token.expires_at - token.created_at == timedelta(days=7)
    listing = owner_client.get(reverse("tokens:deployment", args=["acme", "web"])).content
    detail = reverse("tokens:deployment-detail", args=["acme", "web", token.pk])
    assert re.search(f'<td[^>]*><a href="{detail}">GitHub Actions</a></td>'.encode(), listing)


def test_without_a_label_a_deployment_token_is_named_after_the_project_and_date(owner_client):
    url = reverse("tokens:deployment-generate", args=["acme", "web"])
    assert owner_client.post(url, {"name": "", "expires_in_days": ""}).status_code == 200
    token = Token.objects.get(kind=Token.Kind.DEPLOYMENT)
    assert token.name.startswith(f"web deploy {timezone.now():%Y-%m-%d}")
    assert token.expires_at is None  # "No expiration", chosen


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 101}, "id_name_error"),
        ({"expires_in_days": "3"}, "id_expires_in_days_error"),
    ],
)
def test_bad_deployment_input_is_a_field_error_and_nothing_is_created(owner_client, body, field):
    url = reverse("tokens:deployment-generate", args=["acme", "web"])
    response = owner_client.post(url, body, **HTMX)
    assert response.status_code == 422
    assert f'id="{field}"' in response.content.decode()
    assert not Token.objects.filter(kind=Token.Kind.DEPLOYMENT).exists()


def test_each_deployment_rows_actions_have_distinct_accessible_names(owner_client, org):
    project = org.projects.get()
    owner = Membership.objects.get(user__email="owner@x.test").user
    tokens = [make_deployment_token(project, owner, name="same").token for _ in range(2)]
    html = owner_client.get(reverse("tokens:deployment", args=["acme", "web"])).content.decode()
    labels = re.findall(r'aria-label="((?:Rotate|Revoke) [^"]*)"', html)
    assert len(labels) == 4 and len(set(labels)) == 4
    for token in tokens:
        assert f'aria-label="Revoke same ({token.preview})"' in html
