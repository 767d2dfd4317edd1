"""Opening and accepting an invitation link: every state answers its own page, never a 500,
and one link makes one membership, once (issue 11 §2)."""

import secrets
import threading

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import User
from orgs import invitation_views, invitations
from orgs.audit import Actor
from orgs.invitations import InvitationUnusable
from orgs.models import AuditEvent, Invitation, Membership
from tests.factories import make_org, make_project, make_user

PASSWORD = "correct horse battery 42"


@pytest.fixture(autouse=True)
def _fresh_cache(db):
    cache.clear()


@pytest.fixture
def org(db):
    return make_org("acme", owner="owner@x.test", member="dev@x.test")


def invite(email="new@x.test", role="member", **extra) -> invitations.SentInvitation:
    owner = Membership.objects.select_related("user", "organization").get(
        user__email="owner@x.test"
    )
    return invitations.invitation_create(
        organization=owner.organization,
        email=email,
        role=role,
        by=owner,
        actor=Actor(user=owner.user),
        **extra,
    )


def url(sent) -> str:
    return invitations.accept_path(sent.secret)


class TestNewPerson:
    def test_sets_a_password_is_signed_in_and_lands_in_the_org(self, org, client):
        web = make_project(org, "web")
        sent = invite(projects=[web])
        page = client.get(url(sent))
        assert page.status_code == 200
        assert "Create account and join" in page.content.decode()
        assert page["Cache-Control"].startswith("max-age=0")
        response = client.post(url(sent), {"password1": PASSWORD, "password2": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/orgs/acme/"
        user = User.objects.get(email="new@x.test")
        assert user.check_password(PASSWORD)
        assert Membership.objects.get(user=user).role == "member"
        assert list(web.maintainers.all()) == [user]
        assert int(client.session["_auth_user_id"]) == user.pk
        landed = client.get("/orgs/acme/").content.decode()
        assert "Welcome to Acme: you are a member." in landed

    def test_django_password_validators_apply(self, org, client):
        sent = invite()
        weak = client.post(url(sent), {"password1": "password", "password2": "password"})
        assert weak.status_code == 422
        assert "This password is too common." in weak.content.decode()
        like_email = client.post(url(sent), {"password1": "new@x.test1", "password2": "x"})
        assert "The two passwords differ." in like_email.content.decode()
        similar = client.post(
            url(sent), {"password1": "new@x.test!", "password2": "new@x.test!"}
        ).content.decode()
        assert "too similar" in similar
        assert not User.objects.filter(email="new@x.test").exists()
        assert Invitation.objects.get().is_open

    def test_the_acceptance_is_audited_as_the_new_person(self, org, client):
        sent = invite(role="super_admin")
        client.post(url(sent), {"password1": PASSWORD, "password2": PASSWORD})
        event = AuditEvent.objects.get(action="invitation.accept")
        assert event.actor_label == "new@x.test" and event.organization == org
        assert event.data["role"] == "super_admin"
        assert event.ip == "127.0.0.1"


class TestExistingUser:
    def test_signed_out_they_are_asked_to_sign_in_and_come_back(self, org, client):
        make_user("known@x.test")
        sent = invite("known@x.test")
        page = client.get(url(sent)).content.decode()
        assert "Sign in to accept" in page
        assert f"/accounts/login/?next=%2Finvitations%2F{sent.secret}%2F" in page
        # Posting a password for an address that has an account makes nothing.
        client.post(url(sent), {"password1": PASSWORD, "password2": PASSWORD})
        assert not Membership.objects.filter(user__email="known@x.test").exists()

    def test_signed_in_they_confirm_and_join(self, org, client):
        known = make_user("known@x.test")
        sent = invite("KNOWN@x.test", role="super_admin")
        client.force_login(known)
        page = client.get(url(sent)).content.decode()
        assert "Join Acme" in page
        response = client.post(url(sent))
        assert response.status_code == 302 and response["Location"] == "/orgs/acme/"
        assert Membership.objects.get(user=known).role == "super_admin"

    def test_someone_added_meanwhile_just_uses_up_the_link(self, org, client):
        dev = User.objects.get(email="dev@x.test")
        sent = invite("later@x.test")
        Invitation.objects.filter(pk=sent.invitation.pk).update(email="dev@x.test")
        client.force_login(dev)
        assert "already a member" in client.get(url(sent)).content.decode()
        client.post(url(sent))
        assert Membership.objects.get(user=dev).role == "member"
        assert Invitation.objects.get().accepted_by == dev

    def test_signed_in_as_someone_else_says_who_and_offers_sign_out(self, org, client):
        sent = invite()
        client.force_login(User.objects.get(email="dev@x.test"))
        page = client.get(url(sent))
        text = page.content.decode()
        assert page.status_code == 403
        assert "You are signed in as <strong>dev@x.test</strong>" in text
        assert "sent to another address" in text and "new@x.test" not in text
        assert 'action="/accounts/logout/"' in text and "Sign out" in text
        assert client.post(url(sent)).status_code == 403
        assert Invitation.objects.get().is_open
        with pytest.raises(invitations.WrongAccount):
            invitations.invitation_accept(
                secret=sent.secret, user=User.objects.get(email="dev@x.test"), actor=Actor()
            )

    def test_sign_out_comes_back_to_the_invitation(self, org, client):
        sent = invite()
        client.force_login(User.objects.get(email="dev@x.test"))
        response = client.post("/accounts/logout/", {"next": url(sent)})
        assert response["Location"] == url(sent)


class TestUnusableLinks:
    def test_a_used_link_is_gone(self, org, client):
        sent = invite()
        client.post(url(sent), {"password1": PASSWORD, "password2": PASSWORD})
        client.logout()
        again = client.get(url(sent))
        assert again.status_code == 410 and "already used" in again.content.decode()
        resubmit = client.post(url(sent), {"password1": PASSWORD, "password2": PASSWORD})
        assert resubmit.status_code == 410
        assert Membership.objects.filter(user__email="new@x.test").count() == 1

    def test_an_expired_link_is_gone(self, org, client):
        sent = invite()
        Invitation.objects.update(expires_at=timezone.now())
        page = client.get(url(sent))
        assert page.status_code == 410
        assert "has expired" in page.content.decode()
        assert "owner@x.test" in page.content.decode()  # whom to ask
        post = client.post(url(sent), {"password1": PASSWORD, "password2": PASSWORD})
        assert post.status_code == 410 and not User.objects.filter(email="new@x.test").exists()

    @pytest.mark.parametrize(
        "secret",
        [
            secrets.token_urlsafe(32),  # well formed, never issued
            "short",
            "x" * 500,
            "%00%27%22",
            "a" * 42 + "!",
        ],
    )
    def test_a_forged_or_garbled_link_is_not_found(self, org, client, secret):
        invite()
        response = client.get(f"/invitations/{secret}/")
        assert response.status_code == 404
        assert "This invitation link is not valid" in response.content.decode()
        assert "<nav" in response.content.decode()  # the app's layout
        assert client.post(f"/invitations/{secret}/", {"password1": "x"}).status_code == 404

    def test_a_truncated_real_link_is_not_found(self, org, client):
        sent = invite()
        assert client.get(f"/invitations/{sent.secret[:-1]}/").status_code == 404

    def test_the_unknown_page_does_not_name_the_organization(self, org, client):
        page = client.get(f"/invitations/{secrets.token_urlsafe(32)}/").content.decode()
        assert "Acme" not in page

    def test_the_service_refuses_the_same_states(self, org):
        sent = invite()
        invitations.invitation_accept(
            secret=sent.secret, user=None, password=PASSWORD, actor=Actor()
        )
        with pytest.raises(InvitationUnusable) as error:
            invitations.invitation_accept(
                secret=sent.secret, user=None, password=PASSWORD, actor=Actor()
            )
        assert (error.value.reason, error.value.status) == ("accepted", 410)


class TestRateLimit:
    def test_too_many_attempts_from_one_address_are_refused(self, org, client, settings):
        sent = invite()
        for _ in range(invitation_views.ATTEMPTS_PER_WINDOW):
            assert client.get(f"/invitations/{secrets.token_urlsafe(32)}/").status_code == 404
        refused = client.get(url(sent))
        assert refused.status_code == 429
        assert "Too many attempts" in refused.content.decode()
        assert "Try again in" in refused.content.decode()
        assert 0 < int(refused["Retry-After"]) <= invitation_views.WINDOW_SECONDS
        other = client.get(url(sent), REMOTE_ADDR="192.0.2.7")
        assert other.status_code == 200


@pytest.mark.django_db(transaction=True)
class TestConcurrentAccepts:
    def _race(self, accept) -> list:
        barrier = threading.Barrier(2)
        outcomes = []

        def run():
            try:
                barrier.wait()
                outcomes.append(accept())
            except Exception as error:
                outcomes.append(error)
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    def test_two_accepts_of_one_link_make_one_membership(self):
        make_org("acme", owner="owner@x.test")
        known = make_user("known@x.test")
        sent = invite("known@x.test")
        outcomes = self._race(
            lambda: invitations.invitation_accept(secret=sent.secret, user=known, actor=Actor())
        )
        refused = [o for o in outcomes if isinstance(o, InvitationUnusable)]
        assert len(refused) == 1 and refused[0].reason == "accepted", outcomes
        assert Membership.objects.filter(user=known).count() == 1
        assert AuditEvent.objects.filter(action="invitation.accept").count() == 1

    def test_two_new_account_submits_make_one_account(self):
        make_org("acme", owner="owner@x.test")
        sent = invite()
        outcomes = self._race(
            lambda: invitations.invitation_accept(
                secret=sent.secret, user=None, password=PASSWORD, actor=Actor()
            )
        )
        assert sum(isinstance(o, InvitationUnusable) for o in outcomes) == 1, outcomes
        assert User.objects.filter(email="new@x.test").count() == 1
        assert Membership.objects.filter(user__email="new@x.test").count() == 1


def test_accepting_marks_the_address_verified_for_allauth(org):
    if not apps.is_installed("allauth.account"):
        pytest.skip("allauth.account is not installed (the auth branch adds it): nothing to mark")
    from allauth.account.models import EmailAddress

    sent = invite()
    user, _ = invitations.invitation_accept(
        secret=sent.secret, user=None, password=PASSWORD, actor=Actor()
    )
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("new@x.test", True, True)
