"""Organization setting "Require two-factor authentication" (issue 11 §3): members without a
second factor can sign in but every page of that organization answers the page asking them
to enrol; their personal tokens keep working; the change is confirmed and audited.

A second factor is a row in allauth's Authenticator table, made here as allauth makes it."""

from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts import two_factor
from accounts.models import User
from lib.errors import RuleError
from orgs import services
from orgs.audit import Actor
from orgs.models import AuditEvent, Membership, Organization
from tests.factories import (
    make_ci_token,
    make_org,
    make_personal_token,
    make_project,
    make_user,
)

ENROL = "/orgs/acme/two-factor-required/"


@pytest.fixture
def org(db):
    organization = make_org(
        "acme", owner="owner@x.test", super_admin="admin@x.test", member="dev@x.test"
    )
    make_project(organization, "web")
    return organization


def enrol(email: str) -> None:
    """Give this person an authenticator app, as allauth's TOTP activation stores it."""
    user = User.objects.get(email=email)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


@pytest.fixture
def enrolled(org):
    enrol("owner@x.test")


def membership(email, slug="acme"):
    return Membership.objects.select_related("user", "organization").get(
        user__email=email, organization__slug=slug
    )


def require(org, by="owner@x.test", required=True):
    services.organization_set_require_two_factor(
        organization=org, required=required, by=membership(by), actor=Actor()
    )
    org.refresh_from_db()


ORG_PAGES = [
    "/orgs/acme/",
    "/orgs/acme/settings/members/",
    "/orgs/acme/settings/tokens/",
    "/orgs/acme/settings/deploy-auth/",
    "/orgs/acme/audit/",
    "/orgs/acme/projects/web/settings/deployment-tokens/",
    "/orgs/acme/projects/new/",
]


class TestThePolicy:
    def test_turning_it_on_and_off_is_audited(self, org, enrolled):
        require(org)
        assert org.require_two_factor
        require(org, required=True)  # unchanged: nothing recorded
        require(org, required=False)
        events = AuditEvent.objects.filter(action="org.two_factor_policy").order_by("id")
        assert [e.data for e in events] == [
            {"require_two_factor": True},
            {"require_two_factor": False},
        ]

    def test_whoever_turns_it_on_needs_a_second_factor_first(self, org, enrolled):
        with pytest.raises(RuleError, match="your own account first"):
            require(org, by="admin@x.test")
        assert not Organization.objects.get().require_two_factor

    def test_members_cannot_change_it(self, org, enrolled, client):
        enrol("dev@x.test")
        with pytest.raises(PermissionDenied):
            require(org, by="dev@x.test")
        client.force_login(membership("dev@x.test").user)
        url = reverse("orgs:two-factor-policy", args=["acme"])
        assert client.post(url, {"require_two_factor": "on"}).status_code == 403

    def test_the_page_asks_to_confirm_then_changes_it(self, org, enrolled, client):
        client.force_login(membership("owner@x.test").user)
        url = reverse("orgs:two-factor-policy", args=["acme"])
        dialog = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "Require two-factor authentication?" in dialog
        assert "admin@x.test, dev@x.test" in dialog and "Personal API tokens keep working" in dialog
        assert not Organization.objects.get().require_two_factor
        assert client.post(url, {"require_two_factor": "on"}).status_code == 302
        assert Organization.objects.get().require_two_factor
        # A stale form asking for "on" again does not flip it back off.
        client.post(url, {"require_two_factor": "on"})
        assert Organization.objects.get().require_two_factor

    def test_a_stale_session_confirms_who_it_is_first(self, org, enrolled, client, settings):
        settings.REAUTHENTICATION_MINUTES = 10
        with time_machine.travel(timezone.now() - timedelta(minutes=11), tick=False):
            client.force_login(membership("owner@x.test").user)
        url = reverse("orgs:two-factor-policy", args=["acme"])
        asked = client.post(url, {"require_two_factor": "on"})
        assert asked.status_code == 302 and "/accounts/confirm/" in asked["Location"]
        assert not Organization.objects.get().require_two_factor

    def test_the_members_page_says_who_has_no_second_factor(self, org, enrolled, client):
        client.force_login(membership("owner@x.test").user)
        page = client.get("/orgs/acme/settings/members/").content.decode()
        assert "Without a second factor: admin@x.test, dev@x.test." in page


class TestTheGate:
    @pytest.mark.parametrize("path", ORG_PAGES)
    def test_every_org_page_answers_the_enrol_page(self, org, enrolled, client, path):
        require(org)
        client.force_login(membership("admin@x.test").user)
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == ENROL

    def test_htmx_requests_are_sent_to_it_too(self, org, enrolled, client):
        require(org)
        client.force_login(membership("dev@x.test").user)
        response = client.get("/orgs/acme/", HTTP_HX_REQUEST="true")
        assert response["HX-Redirect"] == ENROL

    def test_writes_are_refused_as_well(self, org, enrolled, client):
        require(org)
        client.force_login(membership("admin@x.test").user)
        response = client.post("/orgs/acme/projects/new/", {"name": "Sneaky"})
        assert response.status_code == 302 and response["Location"] == ENROL
        assert not org.projects.filter(name="Sneaky").exists()

    def test_the_enrol_page_says_what_to_do_and_that_tokens_keep_working(
        self, org, enrolled, client
    ):
        require(org)
        client.force_login(membership("dev@x.test").user)
        page = client.get(ENROL).content.decode()
        assert "Acme requires two-factor authentication" in page
        assert "Your personal API tokens keep working" in page

    def test_members_with_a_second_factor_pass(self, org, enrolled, client):
        require(org)
        client.force_login(membership("owner@x.test").user)
        for path in ORG_PAGES[:-1]:
            assert client.get(path).status_code == 200, path
        assert client.get(ENROL)["Location"] == "/orgs/acme/"

    def test_other_organizations_are_not_affected(self, org, enrolled, client):
        require(org)
        make_org("other", member="dev@x.test")
        client.force_login(membership("dev@x.test").user)
        assert client.get("/orgs/other/").status_code == 200
        assert client.get("/").status_code == 200  # the dashboard

    def test_non_members_still_get_404(self, org, enrolled, client):
        require(org)
        make_org("other", owner="stranger@x.test")
        client.force_login(membership("stranger@x.test", "other").user)
        assert client.get("/orgs/acme/").status_code == 404
        assert client.get(ENROL).status_code == 404

    def test_personal_and_ci_tokens_keep_working(self, org, enrolled, client):
        require(org)
        dev = membership("dev@x.test").user
        personal = make_personal_token(dev, permissions={"orgs:read", "projects:read"})
        ci = make_ci_token(org, membership("owner@x.test").user)
        for token in (personal, ci):
            response = client.get(
                "/api/v1/orgs/acme/projects", HTTP_AUTHORIZATION=f"Bearer {token.plaintext}"
            )
            assert response.status_code == 200, response.content


def test_only_an_app_or_a_security_key_counts_as_a_second_factor(org):
    dev = membership("dev@x.test").user
    assert not two_factor.has_two_factor(dev)
    Authenticator.objects.create(user=dev, type=Authenticator.Type.RECOVERY_CODES, data={})
    assert not two_factor.has_two_factor(dev)  # recovery codes alone are not a factor
    Authenticator.objects.create(user=dev, type=Authenticator.Type.WEBAUTHN, data={})
    assert two_factor.has_two_factor(dev)
    owner = membership("owner@x.test").user
    assert two_factor.users_with_two_factor([dev.pk, owner.pk]) == {dev.pk}


def test_a_large_organization_names_ten_and_counts_the_rest(db, client):
    org = make_org("big", owner="owner@x.test")
    enrol("owner@x.test")
    for number in range(25):
        Membership.objects.create(
            organization=org, user=make_user(f"m{number:02d}@x.test"), role="member"
        )
    client.force_login(membership("owner@x.test", "big").user)
    page = client.get("/orgs/big/settings/members/").content.decode()
    named = ", ".join(f"m{number:02d}@x.test" for number in range(10))
    assert f"Without a second factor: {named} and 15 more." in page
    url = reverse("orgs:two-factor-policy", args=["big"])
    dialog = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert f"25 members without a second factor ({named} and 15 more)" in dialog
