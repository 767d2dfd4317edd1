"""How django-allauth fits Tokendesk (ACCOUNT_ADAPTER): no public sign-up unless a setting
opens it, the client address seen through trusted proxies (ops), and a lockout message that
says how long to wait; its e-mails (password reset, security notices) go through the job
queue like every other e-mail. SOCIALACCOUNT_ADAPTER: who may come in through single sign-on
(accounts/sso.py decides)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import record_authentication
from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render

from accounts import sso
from accounts.tasks import send_email
from ops.client_address import client_ip


def lockout_message() -> str:
    minutes = settings.SIGN_IN_LOCKOUT_MINUTES
    return f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


class AccountAdapter(DefaultAccountAdapter):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        # The same answer whether or not the account exists (the key is the typed address).
        self.error_messages = {
            **self.error_messages,
            "too_many_login_attempts": lockout_message(),
            "email_password_mismatch": "The e-mail address and/or password you gave are "
            "not correct.",
        }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.TOKENDESK_OPEN_SIGNUP

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request) or "0.0.0.0"  # noqa: S104  (no IP: one shared bucket)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Queued, not sent inline: a slow or failing mail server must not fail the page (a
        # password reset). Plain text only, as every Tokendesk e-mail.
        message = self.render_mail(template_prefix, email, context)
        send_email(message.to, message.subject, message.body)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        if sso.is_reauthentication(sociallogin):
            # "Confirm with <provider>" (accounts/sso.py start_reauthentication): nobody is
            # signed in or created; the same person's fresh sign-in is recorded.
            if not sso.confirms(request, sociallogin):
                raise ImmediateHttpResponse(self._refused(request, sociallogin, sso.SOMEONE_ELSE))
            record_authentication(
                request,
                request.user,
                "socialaccount",
                reauthenticated=True,
                provider=sociallogin.account.provider,
                uid=sociallogin.account.uid,
            )
            return
        reason = sso.refusal(sociallogin)
        if reason is not None:
            raise ImmediateHttpResponse(self._refused(request, sociallogin, reason))
        if sociallogin.is_existing and sociallogin.account.pk is None:
            # Met by e-mail, about to be connected.
            self._trust_address(sociallogin.user)

    def _refused(self, request: HttpRequest, sociallogin: SocialLogin, reason: str):
        addresses = sociallogin.email_addresses
        context = {
            "reason": reason,
            "email": addresses[0].email if addresses else "",
            "sso_provider": sso.provider(),
        }
        return render(request, "account/sso_refused.html", context, status=403)

    def _trust_address(self, user) -> None:
        """An existing account met by its e-mail. allauth wipes the password of an account
        whose address was never verified (someone could have signed up with another's
        address). Without open sign-up every account's address was given by an administrator
        or an invitation, so it counts as verified and the password stays."""
        if settings.TOKENDESK_OPEN_SIGNUP:
            return
        updated = EmailAddress.objects.filter(user=user, email__iexact=user.email).update(
            verified=True
        )
        if not updated:
            EmailAddress.objects.create(
                user=user, email=user.email.lower(), verified=True, primary=True
            )

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Who may be created was decided in pre_social_login (sso.refusal).
        return True

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict):
        user = super().populate_user(request, sociallogin, data)
        user.name = (data.get("name") or "")[:150]
        return user
