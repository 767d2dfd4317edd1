"""Organization setting "Require single sign-on" (issue 11 §6): members whose session did not
come through the provider see only a page asking them to sign in with it; their personal
tokens keep working; only someone signed in through SSO can turn it on; confirmed and audited.
Sessions that count as SSO are made by signing in through the real provider (tests/sso/)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from lib.errors import RuleError
from orgs import services
from orgs.audit import Actor
from orgs.models import AuditEvent, Membership, Organization
from tests import factories
from tests.sso.idp import sign_in_through_provider

pytestmark = pytest.mark.django_db

SSO_REQUIRED = "/orgs/acme/sso-required/"
POLICY = "/orgs/acme/settings/sso/"


@pytest.fixture
def org(db):
    return factories.make_org(
        "acme", owner="existing@elsewhere.test", super_admin="admin@x.test", member="dev@x.test"
    )


def membership(email):
    return Membership.objects.select_related("user", "organization").get(
        user__email=email, organization__slug="acme"
    )


def require(org, *, by="existing@elsewhere.test", with_sso=True, required=True):
    services.organization_set_require_sso(
        organization=org,
        required=required,
        by=membership(by),
        signed_in_with_sso=with_sso,
        actor=Actor(),
    )
    org.refresh_from_db()


class TestTheRule:
    def test_it_cannot_be_required_where_sso_is_not_configured(self, org):
        with pytest.raises(RuleError, match="not configured"):
            require(org)
        assert not Organization.objects.get().require_sso

    def test_whoever_turns_it_on_signed_in_with_sso(self, org, sso_settings):
        with pytest.raises(RuleError, match="Sign in with single sign-on yourself first"):
            require(org, with_sso=False)
        assert not Organization.objects.get().require_sso

    def test_members_cannot_change_it(self, org, sso_settings):
        with pytest.raises(PermissionDenied):
            require(org, by="dev@x.test")

    def test_changes_are_audited_once(self, org, sso_settings):
        require(org)
        require(org)  # already on: nothing new
        require(org, required=False)
        assert list(
            AuditEvent.objects.filter(action="org.sso_policy")
            .order_by("id")
            .values_list("data", flat=True)
        ) == [{"require_sso": True}, {"require_sso": False}]


class TestTheGate:
    def test_a_password_session_gets_the_sso_page_on_every_org_page(
        self, org, sso_settings, client
    ):
        require(org)
        client.force_login(membership("dev@x.test").user)
        for path in ("/orgs/acme/", "/orgs/acme/settings/members/", "/orgs/acme/settings/tokens/"):
            response = client.get(path)
            assert response.status_code == 302 and response["Location"] == SSO_REQUIRED, path
        page = client.get(SSO_REQUIRED).content.decode()
        assert "requires single sign-on" in page
        assert "Sign in with Test IdP" in page
        assert "personal API tokens keep working" in page

    def test_other_organizations_and_strangers_are_untouched(self, org, sso_settings, client):
        require(org)
        factories.make_org("other", owner="dev@x.test")
        client.force_login(membership("dev@x.test").user)
        assert client.get("/orgs/other/").status_code == 200
        client.force_login(factories.make_user("nobody@x.test"))
        assert client.get(SSO_REQUIRED).status_code == 404

    def test_personal_tokens_keep_working(self, org, sso_settings, client):
        require(org)
        issued = factories.make_personal_token(membership("dev@x.test").user)
        answer = client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
        assert answer.status_code == 200

    def test_signing_in_through_the_provider_opens_the_pages(self, org, sso_settings, client):
        require(org)
        client.force_login(membership("existing@elsewhere.test").user)
        assert client.get("/orgs/acme/")["Location"] == SSO_REQUIRED
        sign_in_through_provider(client, "existing@elsewhere.test")
        assert client.get("/orgs/acme/").status_code == 200
        assert client.get(SSO_REQUIRED)["Location"] == reverse("orgs:overview", args=["acme"])


class TestThePage:
    def test_an_sso_session_turns_it_on_after_confirming(self, org, sso_settings, client):
        sign_in_through_provider(client, "existing@elsewhere.test")
        dialog = client.get(POLICY, HTTP_HX_REQUEST="true").content.decode()
        assert "Require single sign-on?" in dialog
        assert client.post(POLICY, {"require_sso": "on"}).status_code == 302
        assert Organization.objects.get().require_sso
        # A stale form asking for "on" again does not flip it back off.
        client.post(POLICY, {"require_sso": "on"})
        assert Organization.objects.get().require_sso

    def test_a_password_session_is_told_why_not(self, org, sso_settings, client):
        client.force_login(membership("existing@elsewhere.test").user)
        answer = client.post(POLICY, {"require_sso": "on"}, follow=True)
        assert "Sign in with single sign-on yourself first" in answer.content.decode()
        assert not Organization.objects.get().require_sso

    def test_the_members_page_offers_it_only_where_sso_is_configured(self, org, client, settings):
        client.force_login(membership("existing@elsewhere.test").user)
        assert (
            "Require single sign-on"
            not in client.get("/orgs/acme/settings/members/").content.decode()
        )


def test_without_a_provider_the_requirement_is_not_enforced_and_the_page_says_so(org, client):
    Organization.objects.filter(slug="acme").update(require_sso=True)
    client.force_login(membership("existing@elsewhere.test").user)
    page = client.get("/orgs/acme/settings/members/")
    assert page.status_code == 200
    assert "Required, but not enforced" in page.content.decode()
