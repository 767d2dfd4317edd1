import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from orgs.models import AuditEvent
from tests.factories import make_personal_token
from tokens.models import Token

LIST = reverse("tokens:personal")
CREATE = reverse("tokens:personal-create")
REVOKE_ALL = reverse("tokens:personal-revoke-all")
HTMX = {"HTTP_HX_REQUEST": "true"}
TOKEN_RE = re.compile(r"tdk_pat_[0-9A-Za-z]{38}")


def create(client, name="laptop", permissions=("projects:read", "deployments:write"), **extra):
    data = {"name": name, "expires_in_days": "", "permissions": list(permissions)}
    return client.post(CREATE, data, **extra)


def shown_token(response) -> str:
    found = TOKEN_RE.findall(response.content.decode())
    assert len(set(found)) == 1, "the new token should be shown exactly once"
    return found[0]


def revoke_url(token) -> str:
    return reverse("tokens:personal-revoke", args=[token.pk])


class TestAccess:
    @pytest.mark.parametrize("url", [LIST, CREATE, REVOKE_ALL])
    def test_anonymous_visitors_are_sent_to_sign_in(self, client, db, url):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_another_users_token_answers_404(self, signed_in, other_user):
        theirs = make_personal_token(other_user).token
        assert signed_in.get(revoke_url(theirs)).status_code == 404
        assert signed_in.post(revoke_url(theirs)).status_code == 404
        assert Token.objects.get(pk=theirs.pk).revoked_at is None

    def test_a_post_without_csrf_is_refused(self, user):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response = create(client)
        assert response.status_code == 403
        assert not Token.objects.exists()


class TestCreate:
    def test_it_shows_the_token_once_with_no_store(self, signed_in, user):
        response = create(signed_in, name="deploy script")
        assert response.status_code == 200
        plaintext = shown_token(response)
        assert "no-store" in response["Cache-Control"]
        assert "Copy to clipboard" in response.content.decode()
        assert "will not be shown again" in response.content.decode()
        token = Token.objects.get()
        assert (token.user, token.name, token.kind) == (user, "deploy script", "pat")
        assert token.permissions == ["deployments:write", "projects:read"]
        listing = signed_in.get(LIST).content.decode()
        assert plaintext not in listing
        assert token.preview in listing

    def test_with_htmx_it_answers_the_show_once_partial_and_refreshes_the_table(self, signed_in):
        response = create(signed_in, **HTMX)
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in body
        assert 'id="token-shown-dialog"' in body
        assert json.loads(response["HX-Trigger"]) == {"tokensChanged": {}}
        shown_token(response)

    def test_the_list_and_its_htmx_refresh_are_never_cached(self, signed_in):
        assert "no-store" in signed_in.get(LIST)["Cache-Control"]
        partial = signed_in.get(LIST, **HTMX)
        assert 'id="token-table"' in partial.content.decode()
        assert "<html" not in partial.content.decode()

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("", "This field is required."),
            ("   ", "This field is required."),
            ("x" * 101, "at most 100"),
        ],
    )
    def test_a_bad_label_gets_a_message_next_to_the_field(self, signed_in, name, message):
        response = create(signed_in, name=name, **HTMX)
        assert response.status_code == 422
        body = response.content.decode()
        assert 'id="name-error"' in body and message in body
        assert not Token.objects.exists()

    def test_the_typed_values_survive_an_error(self, signed_in):
        response = create(signed_in, name="kept label", permissions=[])
        body = response.content.decode()
        assert response.status_code == 422
        assert 'value="kept label"' in body
        assert "Choose at least one permission." in body

    def test_unknown_permissions_and_expiry_are_refused(self, signed_in):
        response = signed_in.post(
            CREATE, {"name": "x", "permissions": ["rockets:launch"], "expires_in_days": "99999"}
        )
        assert response.status_code == 422
        assert not Token.objects.exists()

    def test_html_in_the_label_is_escaped(self, signed_in):
        label = '<img src=x onerror="alert(1)">'
        create(signed_in, name=label)
        body = signed_in.get(LIST).content.decode()
        assert label not in body
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body

    def test_unicode_labels_are_kept(self, signed_in):
        create(signed_in, name="Déploiement 夜間 🚀")
        assert "Déploiement 夜間 🚀" in signed_in.get(LIST).content.decode()

    def test_a_double_submit_does_not_silently_create_two_tokens(self, signed_in):
        first = create(signed_in, name="same")
        second = create(signed_in, name="same")
        assert first.status_code == 200
        assert second.status_code == 422
        assert "already exists" in second.content.decode()
        assert Token.objects.count() == 1

    def test_without_a_salt_the_dialog_shows_the_configuration_error(self, signed_in, settings):
        settings.TOKEN_HASH_SALT = ""
        response = create(signed_in, **HTMX)
        assert response.status_code == 503
        assert "TOKEN_HASH_SALT" in response.content.decode()
        assert not Token.objects.exists()
        assert "Token generation is not configured" in signed_in.get(LIST).content.decode()

    def test_without_javascript_the_create_page_shows_the_dialog_open(self, signed_in):
        body = signed_in.get(CREATE).content.decode()
        assert "<html" in body and 'id="create-token-dialog"' in body and " open" in body


class TestRevoke:
    def test_confirm_then_revoke(self, signed_in, user):
        token = make_personal_token(user, name="old").token
        confirm = signed_in.get(revoke_url(token), **HTMX).content.decode()
        assert "Confirm" in confirm and token.preview in confirm
        response = signed_in.post(revoke_url(token), **HTMX)
        assert response.status_code == 200
        assert json.loads(response["HX-Trigger"]) == {"tokensChanged": {}}
        assert "revoked" in response.content.decode()
        assert Token.objects.get(pk=token.pk).revoked_by == user
        assert f'id="token-{token.pk}"' not in signed_in.get(LIST).content.decode()
        revoked_list = signed_in.get(LIST + "?show=revoked").content.decode()
        assert f'id="token-{token.pk}"' in revoked_list and user.email in revoked_list

    def test_without_javascript_it_redirects_with_a_message(self, signed_in, user):
        token = make_personal_token(user).token
        response = signed_in.post(revoke_url(token), follow=True)
        assert response.redirect_chain[-1][0] == LIST
        assert "revoked" in response.content.decode()

    def test_revoking_twice_is_harmless(self, signed_in, user):
        token = make_personal_token(user).token
        signed_in.post(revoke_url(token))
        response = signed_in.post(revoke_url(token), follow=True)
        assert response.status_code == 200
        assert "already revoked" in response.content.decode()
        assert AuditEvent.objects.filter(action="token.revoke").count() == 1

    def test_revoke_all(self, signed_in, user, other_user):
        for number in range(3):
            make_personal_token(user, name=f"t{number}")
        theirs = make_personal_token(other_user).token
        confirm = signed_in.get(REVOKE_ALL, **HTMX).content.decode()
        assert "all 3" in confirm
        response = signed_in.post(REVOKE_ALL, **HTMX)
        assert "Revoked 3 tokens." in response.content.decode()
        assert not Token.objects.personal_for(user).unrevoked().exists()
        assert Token.objects.get(pk=theirs.pk).revoked_at is None

    def test_revoke_is_post_only_for_changes(self, signed_in, user):
        token = make_personal_token(user).token
        signed_in.get(revoke_url(token))
        assert Token.objects.get(pk=token.pk).revoked_at is None
        assert signed_in.put(revoke_url(token)).status_code == 405


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_costs_the_same_queries_whatever_the_number_of_tokens(
    signed_in, user, count, django_assert_num_queries
):
    for number in range(count):
        make_personal_token(user, name=f"token {number}")
    # session, user, navigation memberships, count, one page of tokens (revoked_by joined)
    with django_assert_num_queries(5):
        assert signed_in.get(LIST).status_code == 200
