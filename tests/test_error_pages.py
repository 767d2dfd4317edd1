"""The error pages (400, 403, 404, 500) are the app's own, in its layout with a way back, as
production serves them (DEBUG off): a member following a link to a page they may not see
gets the app's 404, never Django's bare one."""

import re

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import RequestFactory
from django.urls import reverse

from config import errors
from config.unavailable import server_error
from tests.factories import make_org, make_user


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


@pytest.fixture
def member(db):
    organization = make_org("acme", owner="owner@x.test", member="dev@x.test")
    return organization.memberships.get(user__email="dev@x.test").user


def assert_app_page(html: str, heading: str) -> None:
    assert '<html lang="en">' in html
    assert 'href="/static/' in html or "app.css" in html  # the app's stylesheet
    assert f"<h1>{heading}</h1>" in html
    assert 'href="/">Go to the dashboard</a>' in html


@pytest.mark.parametrize(
    "url",
    ["/orgs/acme/settings/tokens/", "/orgs/acme/audit/", "/orgs/acme/settings/deploy-auth/"],
)
def test_a_member_following_an_admin_link_gets_the_apps_404(client, member, url):
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert_app_page(html, "Page not found")
    # The signed-in layout: the navigation is there, with the member's e-mail.
    assert "dev@x.test" in html
    assert "<title>Page not found · Tokendesk</title>" in html


def test_an_unknown_address_gets_the_apps_404(client, member):
    client.force_login(member)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert_app_page(response.content.decode(), "Page not found")


def test_another_organization_answers_the_same_404(client, member):
    make_org("other", owner="someone@x.test")
    client.force_login(member)
    theirs = client.get(reverse("orgs:overview", args=["other"]))
    missing = client.get(reverse("orgs:overview", args=["nothing-here"]))
    assert theirs.status_code == missing.status_code == 404
    # The same page, but for the per-request CSRF token.
    csrf = re.compile(rb'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub(b"", theirs.content) == csrf.sub(b"", missing.content)


def test_the_403_page(rf: RequestFactory, db):
    request = rf.get("/")
    request.user = make_user("someone@x.test")
    response = errors.permission_denied(request, PermissionDenied("no"))
    assert response.status_code == 403
    assert_app_page(response.content.decode(), "You may not do this")


def test_the_400_page(rf: RequestFactory, db):
    request = rf.get("/")
    response = errors.bad_request(request, SuspiciousOperation("bad"))
    assert response.status_code == 400
    assert_app_page(response.content.decode(), "This request could not be understood")


def test_the_500_page_reads_nothing_from_the_database(
    rf: RequestFactory, db, django_assert_num_queries
):
    request = rf.get("/orgs/acme/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert_app_page(html, "Something went wrong")
    assert 'href="">Try again</a>' in html


def test_a_view_that_fails_answers_the_500_page(client, member, monkeypatch):
    client.raise_request_exception = False
    client.force_login(member)
    monkeypatch.setattr("orgs.views._overview_context", lambda membership: 1 / 0)
    response = client.get(reverse("orgs:overview", args=["acme"]))
    assert response.status_code == 500
    assert_app_page(response.content.decode(), "Something went wrong")


def test_an_error_page_that_cannot_render_falls_back_to_a_plain_one(client, member, settings):
    """Production without its collected static files: the layout cannot render, the 404
    still answers 404 with a way back, never a traceback."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = "/nonexistent-static-root"
    client.force_login(member)
    response = client.get("/orgs/acme/settings/tokens/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html and 'href="/">Go to the dashboard</a>' in html
    assert "Traceback" not in html
