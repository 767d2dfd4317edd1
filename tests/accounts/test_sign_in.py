"""Signing in through django-allauth: e-mail and password (existing Argon2 hashes keep
working), the 2FA step, guessing limits, sessions, and the first-run note."""

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.usersessions.models import UserSession
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from tests.factories import make_user

LOGIN = reverse("accounts:login")
PASSWORD = "pw-for-tests"


def sign_in(client, email="alice@example.test", password=PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def is_signed_in(client) -> bool:
    return client.get(reverse("dashboard")).status_code == 200


def test_an_existing_argon2_password_still_signs_in(client, db, settings):
    user = make_user("alice@example.test")
    user.password = make_password(PASSWORD, hasher="argon2")
    user.save()
    response = sign_in(client, "Alice@Example.test")
    assert response.status_code == 302
    assert is_signed_in(client)


def test_a_wrong_password_says_so_without_naming_the_account(client, user):
    response = sign_in(client, password="wrong")
    assert response.status_code == 200
    assert "e-mail address and/or password you gave are not correct" in response.content.decode()
    assert not is_signed_in(client)


def test_there_is_no_public_sign_up_by_default(client, db):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 404
    client.post(
        reverse("account_signup"),
        {
            "email": "eve@example.test",
            "password1": "x-Long-pass-123",
            "password2": "x-Long-pass-123",
        },
    )
    assert not User.objects.filter(email="eve@example.test").exists()
    assert "Sign up" not in client.get(LOGIN).content.decode()


def test_open_sign_up_when_the_setting_says_so(client, db, settings):
    settings.TOKENDESK_OPEN_SIGNUP = True
    client.post(
        reverse("account_signup"),
        {
            "email": "eve@example.test",
            "password1": "x-Long-pass-123",
            "password2": "x-Long-pass-123",
        },
    )
    assert User.objects.filter(email="eve@example.test").exists()


class TestGuessing:
    def test_the_eleventh_wrong_password_is_refused_with_the_wait(self, client, user, settings):
        settings.SIGN_IN_ATTEMPTS = 10
        for _ in range(10):
            body = sign_in(client, password="wrong").content.decode()
            assert "not correct" in body
        body = sign_in(client, password="wrong").content.decode()
        assert (
            f"Too many attempts. Try again in {settings.SIGN_IN_LOCKOUT_MINUTES} minutes." in body
        )
        # Even the right password waits now.
        assert "Too many attempts" in sign_in(client).content.decode()
        assert not is_signed_in(client)

    def test_an_unknown_account_gets_the_same_answers(self, client, db, settings):
        for _ in range(10):
            assert "not correct" in sign_in(client, "nobody@example.test").content.decode()
        body = sign_in(client, "nobody@example.test").content.decode()
        assert "Too many attempts" in body

    def test_the_limit_is_per_account_too(self, db, settings):
        make_user("alice@example.test")
        for number in range(10):
            # From ten different addresses.
            Client(REMOTE_ADDR=f"10.0.0.{number}").post(
                LOGIN, {"login": "alice@example.test", "password": "wrong"}
            )
        body = sign_in(Client(REMOTE_ADDR="10.0.1.1")).content.decode()
        assert "Too many attempts" in body

    def test_the_limit_is_per_address_too(self, db):
        for number in range(10):
            make_user(f"user{number}@example.test")
            sign_in(Client(), f"user{number}@example.test", "wrong")
        make_user("fresh@example.test")
        assert "Too many attempts" in sign_in(Client(), "fresh@example.test").content.decode()


class TestTwoFactor:
    @pytest.fixture
    def secret(self, user):
        secret = pyotp.random_base32()
        TOTP.activate(user, secret)
        RecoveryCodes.activate(user)
        return secret

    def code_step(self, client):
        response = sign_in(client)
        assert response["Location"] == reverse("mfa_authenticate")
        return reverse("mfa_authenticate")

    def test_the_password_alone_does_not_sign_in(self, client, secret):
        self.code_step(client)
        assert not is_signed_in(client)

    def test_a_wrong_code_is_refused(self, client, secret):
        step = self.code_step(client)
        response = client.post(step, {"code": "123456"})
        assert "Incorrect code" in response.content.decode()
        assert not is_signed_in(client)

    def test_the_right_code_signs_in(self, client, secret):
        step = self.code_step(client)
        client.post(step, {"code": pyotp.TOTP(secret).now()})
        assert is_signed_in(client)

    def test_a_code_cannot_be_replayed_within_its_window(self, client, secret):
        code = pyotp.TOTP(secret).now()
        client.post(self.code_step(client), {"code": code})
        assert is_signed_in(client)
        other = Client()
        response = other.post(self.code_step(other), {"code": code})
        assert "Incorrect code" in response.content.decode()
        assert not is_signed_in(other)

    def test_a_recovery_code_works_once(self, client, user, secret):
        code = RecoveryCodes(Authenticator.objects.get(user=user, type="recovery_codes"))
        first = code.get_unused_codes()[0]
        client.post(self.code_step(client), {"code": first})
        assert is_signed_in(client)
        other = Client()
        response = other.post(self.code_step(other), {"code": first})
        assert "Incorrect code" in response.content.decode()

    def test_wrong_codes_are_limited(self, client, secret, settings):
        step = self.code_step(client)
        for _ in range(settings.SIGN_IN_ATTEMPTS):
            client.post(step, {"code": "000000"})
        response = client.post(step, {"code": pyotp.TOTP(secret).now()})
        assert "Too many attempts" in response.content.decode()
        assert not is_signed_in(client)

    def test_recovery_codes_are_never_cached(self, client, user, secret):
        client.force_login(user)
        response = client.get(reverse("mfa_view_recovery_codes"))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]


class TestSessions:
    def test_the_security_page_lists_sessions_and_signs_out_the_others(self, user):
        laptop, phone = (
            Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"),
            Client(),
        )
        sign_in(laptop)
        sign_in(phone)
        page = laptop.get(reverse("security")).content.decode()
        assert "Firefox on Linux" in page
        assert UserSession.objects.filter(user=user).count() == 2
        laptop.post(reverse("security-sign-out-others"))
        assert is_signed_in(laptop)
        assert not is_signed_in(phone)
        assert UserSession.objects.filter(user=user).count() == 1

    def test_signing_out_ends_the_other_sessions(self, user):
        laptop, phone = Client(), Client()
        sign_in(laptop)
        sign_in(phone)
        laptop.post(reverse("accounts:logout"))
        assert not is_signed_in(laptop)
        assert not is_signed_in(phone)

    def test_a_password_change_ends_the_other_sessions(self, user):
        laptop, phone = Client(), Client()
        sign_in(laptop)
        sign_in(phone)
        new = "a-New-password-4711"
        laptop.post(
            reverse("account_change_password"),
            {"oldpassword": PASSWORD, "password1": new, "password2": new},
        )
        assert is_signed_in(laptop)
        assert not is_signed_in(phone)

    def test_an_idle_session_expires(self, user, settings, time_machine):
        time_machine.move_to(timezone.now(), tick=False)
        sign_in(client := Client())
        assert is_signed_in(client)
        time_machine.shift(settings.SESSION_IDLE_MINUTES * 60 - 120)
        assert is_signed_in(client)  # activity pushes the expiry ahead
        time_machine.shift(settings.SESSION_IDLE_MINUTES * 60 - 120)
        assert is_signed_in(client)
        time_machine.shift(settings.SESSION_IDLE_MINUTES * 60 + 60)
        assert not is_signed_in(client)


def test_a_fresh_install_says_how_to_make_the_first_user(client, db):
    body = client.get(LOGIN).content.decode()
    assert "python manage.py bootstrap" in body
    make_user("alice@example.test")
    assert "python manage.py bootstrap" not in client.get(LOGIN).content.decode()


def test_the_admin_signs_in_through_the_same_door(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_password_reset_ends_every_session(user, mailoutbox):
    laptop = Client()
    sign_in(laptop)
    stranger = Client()
    stranger.post(reverse("account_reset_password"), {"email": "alice@example.test"})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password/reset/key/" in line)
    path = link[link.index("/accounts/") :].strip()
    form = stranger.get(path, follow=True)
    new = "a-New-password-4711"
    stranger.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"password1": new, "password2": new},
    )
    assert not is_signed_in(laptop)
    assert sign_in(Client(), password=new).status_code == 302


def test_a_password_reset_mail_goes_through_the_job_queue(user, mailoutbox, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    Client().post(reverse("account_reset_password"), {"email": "alice@example.test"})

    assert mailoutbox == []  # nothing sent inline: the worker sends it
    [job] = DBTaskResult.objects.all()
    assert job.task_path == "accounts.tasks.deliver_email"
    to, subject, body = job.args_kwargs["args"]
    assert "password" in subject.lower()
    assert to == ["alice@example.test"]
    assert "/password/reset/key/" in body
