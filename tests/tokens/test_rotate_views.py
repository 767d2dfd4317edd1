"""Rotate and End overlap on the personal, CI and deployment token pages (HTMX and without
JavaScript)."""

import re

import pytest
from django.urls import reverse

from orgs.models import AuditEvent, Membership
from tests.factories import (
    make_ci_token,
    make_deployment_token,
    make_org,
    make_personal_token,
    make_project,
)
from tokens.models import Token
from tokens.services import InvalidToken, token_verify

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test", member="dev@x.test")


@pytest.fixture
def owner(org):
    return Membership.objects.get(user__email="owner@x.test").user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def plaintext_in(response, kind):
    found = set(re.findall(rf"tdk_{kind}_[0-9A-Za-z]{{38}}", response.content.decode()))
    assert len(found) == 1
    return found.pop()


def pages(org, owner):
    """(kind, issued token, list URL, rotate URL, end-overlap URL) for each page."""
    personal = make_personal_token(owner)
    ci = make_ci_token(org, owner)
    deployment = make_deployment_token(make_project(org), owner)
    return [
        ("pat", personal, reverse("tokens:personal"),
         reverse("tokens:personal-rotate", args=[personal.token.pk]),
         reverse("tokens:personal-end-overlap", args=[personal.token.pk])),
        ("ci", ci, reverse("tokens:ci", args=["acme"]),
         reverse("tokens:ci-rotate", args=["acme", ci.token.pk]),
         reverse("tokens:ci-end-overlap", args=["acme", ci.token.pk])),
        ("dep", deployment, reverse("tokens:deployment", args=["acme", "web"]),
         reverse("tokens:deployment-rotate", args=["acme", "web", deployment.token.pk]),
         reverse("tokens:deployment-end-overlap", args=["acme", "web", deployment.token.pk])),
    ]  # fmt: skip


@pytest.mark.parametrize("index", [0, 1, 2], ids=["personal", "ci", "deployment"])
def test_rotate_with_htmx_shows_the_new_secret_once_and_the_overlap_in_the_table(
    owner_client, org, owner, index
):
    kind, issued, page, rotate, end_overlap = pages(org, owner)[index]
    listing = owner_client.get(page).content.decode()
    assert f'href="{rotate}"' in listing
    dialog = owner_client.get(rotate, **HTMX)
    assert dialog.status_code == 200
    assert 'id="confirm-rotate-dialog"' in dialog.content.decode()
    assert re.search(r'value="24"[^>]*checked', dialog.content.decode())  # the default
    response = owner_client.post(rotate, {"overlap_hours": "1"}, **HTMX)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "The previous secret" in response.content.decode()
    new = plaintext_in(response, kind)
    assert token_verify(new).id == token_verify(issued.plaintext).id == issued.token.pk
    table = owner_client.get(page, **HTMX).content.decode()
    assert "Old secret" in table and "valid until" in table
    assert f'href="{end_overlap}"' in table
    assert 'aria-label="End overlap now for ' in table
    # End overlap now: a confirmation, then the old secret stops working.
    assert (
        'id="confirm-end-overlap-dialog"' in owner_client.get(end_overlap, **HTMX).content.decode()
    )
    ended = owner_client.post(end_overlap, **HTMX)
    assert ended.status_code == 200
    with pytest.raises(InvalidToken):
        token_verify(issued.plaintext)
    assert token_verify(new).id == issued.token.pk
    assert "Old secret" not in owner_client.get(page, **HTMX).content.decode()
    assert AuditEvent.objects.filter(action="token.overlap_end").count() == 1


def test_rotate_without_javascript_renders_the_page_with_the_dialog(owner_client, org, owner):
    kind, issued, page, rotate, end_overlap = pages(org, owner)[1]
    page_with_dialog = owner_client.get(rotate).content.decode()
    assert "<html" in page_with_dialog and 'id="confirm-rotate-dialog"' in page_with_dialog
    response = owner_client.post(rotate, {"overlap_hours": "168", "until_first_use": "on"})
    assert response.status_code == 200 and "<html" in response.content.decode()
    new = plaintext_in(response, kind)
    token = Token.objects.get(pk=issued.token.pk)
    assert token.previous_until_first_use and token.in_overlap
    assert "or until this one is first used" in response.content.decode()
    ended = owner_client.post(end_overlap)
    assert ended.status_code == 302 and ended["Location"] == page
    assert token_verify(new).id == issued.token.pk


@pytest.mark.parametrize("overlap", ["2", "", "forever", "0"])
def test_an_overlap_outside_the_choices_is_a_field_error_and_nothing_changes(
    owner_client, org, owner, overlap
):
    _, issued, _, rotate, _ = pages(org, owner)[1]
    response = owner_client.post(rotate, {"overlap_hours": overlap}, **HTMX)
    assert response.status_code == 422
    assert 'id="overlap-error"' in response.content.decode()
    assert Token.objects.get(pk=issued.token.pk).digest == issued.token.digest
    assert not AuditEvent.objects.filter(action="token.rotate").exists()


def test_another_users_token_answers_404(client, org, owner, other_user):
    issued = make_personal_token(owner)
    client.force_login(other_user)
    for name in ("tokens:personal-rotate", "tokens:personal-end-overlap"):
        url = reverse(name, args=[issued.token.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"overlap_hours": "1"}).status_code == 404
    assert Token.objects.get(pk=issued.token.pk).digest == issued.token.digest


def test_a_member_cannot_rotate_ci_tokens(client, org, owner):
    issued = make_ci_token(org, owner)
    client.force_login(Membership.objects.get(user__email="dev@x.test").user)
    url = reverse("tokens:ci-rotate", args=["acme", issued.token.pk])
    assert client.post(url, {"overlap_hours": "1"}).status_code == 404


def test_deployment_rows_have_distinct_accessible_names(owner_client, org, owner):
    project = make_project(org)
    first = make_deployment_token(project, owner, name="one")
    second = make_deployment_token(project, owner, name="two")
    body = owner_client.get(reverse("tokens:deployment", args=["acme", "web"])).content.decode()
    for issued in (first, second):
        assert f'aria-label="Rotate {issued.token.name} ({issued.token.preview})"' in body


def test_a_stale_session_confirms_who_it_is_before_rotating(client, org, owner, settings):
    import time_machine
    from django.utils import timezone

    issued = make_ci_token(org, owner)
    settings.REAUTHENTICATION_MINUTES = 10
    with time_machine.travel(timezone.now() - timezone.timedelta(minutes=11), tick=False):
        client.force_login(owner)
    url = reverse("tokens:ci-rotate", args=["acme", issued.token.pk])
    asked = client.post(url, {"overlap_hours": "24"}, **HTMX)
    assert asked.status_code == 401 and "Confirm it is you" in asked.content.decode()
    assert Token.objects.get(pk=issued.token.pk).digest == issued.token.digest
    action = re.search(r'hx-post="(/accounts/confirm/[^"]+/)"', asked.content.decode())[1]
    done = client.post(action, {"password": "pw-for-tests"}, **HTMX)
    assert done.status_code == 200
    assert token_verify(plaintext_in(done, "ci")).id == issued.token.pk
    assert Token.objects.get(pk=issued.token.pk).in_overlap
