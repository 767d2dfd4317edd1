"""When the database fails, the API answers 503 JSON with Retry-After and pages answer the
app's 503 page, never a 500. The failure is simulated here, so this runs on every backend;
tests/faults/test_postgres_outage.py stops a real server."""

from unittest import mock

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError

from config import unavailable
from tests.factories import make_personal_token


@pytest.fixture
def token(user):
    return make_personal_token(user).plaintext


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_call_answers_503_json_with_retry_after(client, token, error):
    with mock.patch("tokens.services.credential_by_digest", side_effect=error("connection lost")):
        response = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"
    assert set(response.json()) == {"error", "detail"}
    assert int(response["Retry-After"]) > 0


def test_a_page_answers_the_503_page_in_the_apps_look(signed_in):
    with mock.patch.object(SessionStore, "load", side_effect=OperationalError("refused")):
        response = signed_in.get("/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Tokendesk is unavailable" in html
    assert "app.css" in html  # the base layout, not Django's bare page


def test_an_htmx_swap_shows_the_503_page_as_the_whole_page(signed_in):
    with mock.patch.object(SessionStore, "load", side_effect=OperationalError("refused")):
        response = signed_in.get("/orgs/acme/", HTTP_HX_REQUEST="true")
    assert response.status_code == 503
    assert response["HX-Retarget"] == "body"


def test_the_503_page_renders_in_full_without_the_database(rf):
    # No db fixture: any query here would raise, and the plain fallback would show.
    response = unavailable.unavailable_response(rf.get("/orgs/acme/"), OperationalError("down"))
    assert response.status_code == 503
    assert "app.css" in response.content.decode()


def test_a_broken_503_template_still_answers_503(rf):
    with mock.patch.object(unavailable, "render_to_string", side_effect=RuntimeError("boom")):
        response = unavailable.unavailable_response(rf.get("/"), OperationalError("down"))
    assert response.status_code == 503
    assert "Tokendesk is unavailable" in response.content.decode()


def test_an_outage_raised_in_a_middleware_is_a_503_too(rf):
    request = rf.get("/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = unavailable.server_error(request)
    assert response.status_code == 503


def test_other_database_errors_are_not_disguised_as_an_outage(rf):
    request = rf.get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = unavailable.server_error(request)
    assert response.status_code == 500
