import re
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from lib.errors import RuleError
from orgs.audit import Actor
from orgs.models import Membership
from tests.factories import make_ci_token, make_deployment_token, make_org, make_project
from tokens.models import Token
from tokens.services import InvalidToken, token_reset, token_verify

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


class TestCreateCIToken:
    def test_it_belongs_to_the_org_with_the_chosen_role(self, owner_client, org, owner):
        response = owner_client.post(
            reverse("tokens:ci-create", args=["acme"]),
            {"name": "GitHub Actions", "description": "acme/web", "role": "read_only"},
            **HTMX,
        )
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        token = token_verify(plaintext_in(response, "ci"))
        assert (token.organization, token.user, token.created_by_id) == (org, None, owner.pk)
        assert token.role == "read_only"
        assert token.allows("audit:read") and not token.allows("deployments:write")

    def test_ci_is_the_preselected_role(self, owner_client):
        body = owner_client.get(reverse("tokens:ci-create", args=["acme"]), **HTMX).content.decode()
        assert re.search(r'<option value="ci" selected>CI token</option>', body)

    def test_a_custom_role_needs_permissions(self, owner_client):
        url = reverse("tokens:ci-create", args=["acme"])
        empty = owner_client.post(url, {"name": "x", "role": "custom"}, **HTMX)
        assert empty.status_code == 422
        assert "Pick at least one permission" in empty.content.decode()
        ok = owner_client.post(
            url, {"name": "x", "role": "custom", "permissions": ["audit:read"]}, **HTMX
        )
        assert token_verify(plaintext_in(ok, "ci")).permissions == ("audit:read",)

    def test_an_unknown_role_is_refused(self, owner_client):
        response = owner_client.post(
            reverse("tokens:ci-create", args=["acme"]), {"name": "x", "role": "root"}, **HTMX
        )
        assert response.status_code == 422
        assert not Token.objects.exists()

    def test_html_in_the_label_is_escaped(self, owner_client, org, owner):
        make_ci_token(org, owner, name="<i>x</i>")
        body = owner_client.get(reverse("tokens:ci", args=["acme"])).content.decode()
        assert "<i>x</i>" not in body and "&lt;i&gt;x&lt;/i&gt;" in body


class TestReset:
    def test_the_old_secret_dies_and_the_new_one_works(self, owner_client, org, owner):
        issued = make_ci_token(org, owner)
        response = owner_client.post(
            reverse("tokens:ci-reset", args=["acme", issued.token.pk]), **HTMX
        )
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        new_plaintext = plaintext_in(response, "ci")
        with pytest.raises(InvalidToken):
            token_verify(issued.plaintext)
        token = token_verify(new_plaintext)
        assert (token.pk, token.name, token.role) == (issued.token.pk, "GitHub Actions", "ci")

    def test_the_api_agrees(self, client, org, owner):
        issued = make_ci_token(org, owner)
        renewed = token_reset(token=issued.token, actor=Actor(user=owner))
        old = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {issued.plaintext}"})
        new = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {renewed.plaintext}"})
        assert (old.status_code, new.status_code) == (401, 200)

    def test_a_revoked_token_cannot_be_reset(self, org, owner):
        from tokens.services import token_revoke

        issued = make_ci_token(org, owner)
        token_revoke(token=issued.token, actor=Actor(user=owner))
        with pytest.raises(RuleError):
            token_reset(token=issued.token, actor=Actor(user=owner))

    @pytest.mark.django_db(transaction=True)
    def test_concurrent_double_reset_leaves_exactly_one_valid_secret(self):
        org = make_org("race", owner="race@x.test")
        owner = Membership.objects.get(organization=org).user
        issued = make_ci_token(org, owner)
        secrets = []
        barrier = threading.Barrier(2)

        def reset():
            try:
                barrier.wait()
                secrets.append(token_reset(token=issued.token, actor=Actor(user=owner)).plaintext)
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=reset) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(secrets) == 2
        valid = []
        for plaintext in [issued.plaintext, *secrets]:
            try:
                token_verify(plaintext)
                valid.append(plaintext)
            except InvalidToken:
                pass
        assert len(valid) == 1 and valid[0] in secrets


class TestPolicy:
    def test_the_maximum_lifetime_is_enforced_at_creation(self, org, owner):
        org.max_token_lifetime_days = 30
        org.save()
        with pytest.raises(RuleError, match="at most 30 days"):
            make_ci_token(org, owner, expires_in_days=90)
        token = make_ci_token(org, owner).token  # no expiry asked → the maximum
        assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)

    def test_the_dialog_offers_only_allowed_lifetimes(self, owner_client, org):
        org.max_token_lifetime_days = 45
        org.save()
        body = owner_client.get(reverse("tokens:ci-create", args=["acme"]), **HTMX).content.decode()
        assert "45 days (the organization&#x27;s maximum)" in body
        assert ">No expiration<" not in body and ">90 days<" not in body
        assert "at most 45 days" in body

    def test_reset_clamps_to_the_policy(self, org, owner):
        issued = make_ci_token(org, owner)  # never expires
        org.max_token_lifetime_days = 7
        org.save()
        token = token_reset(token=issued.token, actor=Actor(user=owner)).token
        assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)

    def test_deployment_tokens_follow_the_policy(self, owner_client, org):
        org.max_token_lifetime_days = 10
        org.save()
        make_project(org, "web")
        response = owner_client.post(reverse("tokens:deployment-generate", args=["acme", "web"]))
        token = token_verify(plaintext_in(response, "dep"))
        assert timedelta(days=9) < token.expires_at - timezone.now() <= timedelta(days=10)

    def test_the_policy_form_validates(self, owner_client, org):
        url = reverse("tokens:ci-policy", args=["acme"])
        assert owner_client.post(url, {"max_lifetime_days": "0"}, **HTMX).status_code == 422
        owner_client.post(url, {"max_lifetime_days": "90", "confirmed": "on"})
        org.refresh_from_db()
        assert org.max_token_lifetime_days == 90
        owner_client.post(url, {"max_lifetime_days": ""})
        org.refresh_from_db()
        assert org.max_token_lifetime_days is None


class TestDeploymentTokens:
    def test_generate_shows_once_and_lists_a_preview(self, owner_client, org):
        make_project(org, "web")
        response = owner_client.post(reverse("tokens:deployment-generate", args=["acme", "web"]))
        plaintext = plaintext_in(response, "dep")
        token = token_verify(plaintext)
        assert token.project.slug == "web" and token.kind == "dep"
        listing = owner_client.get(reverse("tokens:deployment", args=["acme", "web"]))
        assert plaintext not in listing.content.decode()
        assert token.preview in listing.content.decode()

    def test_without_a_salt_nothing_is_created(self, owner_client, org, settings):
        make_project(org, "web")
        settings.TOKEN_HASH_SALT = ""
        response = owner_client.post(
            reverse("tokens:deployment-generate", args=["acme", "web"]), **HTMX
        )
        assert response.status_code == 503
        assert "TOKEN_HASH_SALT" in response.content.decode()
        assert not Token.objects.exists()

    def test_revoke_revokes_and_removes_the_row(self, owner_client, org, owner):
        web = make_project(org, "web")
        issued = make_deployment_token(web, owner)
        url = reverse("tokens:deployment-revoke", args=["acme", "web", issued.token.pk])
        assert "Revoke" in owner_client.get(url, **HTMX).content.decode()
        owner_client.post(url, **HTMX)
        with pytest.raises(InvalidToken):
            token_verify(issued.plaintext)
        listing = owner_client.get(reverse("tokens:deployment", args=["acme", "web"]))
        assert f'id="token-{issued.token.pk}"' not in listing.content.decode()


@pytest.mark.parametrize("count", [3, 300])
def test_ci_list_queries_do_not_grow_with_tokens(
    owner_client, org, owner, count, django_assert_num_queries
):
    Token.objects.bulk_create(
        Token(kind="ci", organization=org, name=f"t{n}", role="ci", permissions=["projects:read"],
              digest=f"{n:064x}", preview=f"tdk_ci_{n}", created_by=owner)
        for n in range(count)
    )  # fmt: skip
    # session, user, membership+org, navigation, count, one page of tokens
    with django_assert_num_queries(6):
        response = owner_client.get(reverse("tokens:ci", args=["acme"]))
    assert response.content.decode().count('class="status-active"') == min(count, 50)


@pytest.mark.parametrize("count", [3, 300])
def test_deployment_list_queries_do_not_grow_with_tokens(
    client, org, count, django_assert_num_queries
):
    web = make_project(org, "web")
    dev = Membership.objects.get(user__email="dev@x.test").user
    web.maintainers.add(dev)
    client.force_login(dev)
    Token.objects.bulk_create(
        Token(kind="dep", organization=org, project=web, name=f"t{n}",
              permissions=["projects:read"], digest=f"{n:064x}", preview=f"tdk_dep_{n}")
        for n in range(count)
    )  # fmt: skip
    # session, user, membership+org, project, maintainer check, navigation, count, page
    with django_assert_num_queries(8):
        response = client.get(reverse("tokens:deployment", args=["acme", "web"]))
    assert response.content.decode().count('class="status-active"') == min(count, 50)


def test_the_ci_list_pages_through_every_token(owner_client, org, owner):
    Token.objects.bulk_create(
        Token(kind="ci", organization=org, name=f"t{n:03}", role="ci",
              permissions=["projects:read"], digest=f"{n:064x}", preview=f"tdk_ci_{n}",
              created_by=owner)
        for n in range(120)
    )  # fmt: skip
    url = reverse("tokens:ci", args=["acme"])
    seen = set()
    for number in (1, 2, 3):
        body = owner_client.get(url, {"page": number}).content.decode()
        seen |= set(re.findall(r'id="token-(\d+)"', body))
    assert len(seen) == 120
    last = owner_client.get(url, {"page": 3}).content.decode()
    assert "Page 3 of 3 · 120 tokens" in last and 'rel="prev"' in last and 'rel="next"' not in last
