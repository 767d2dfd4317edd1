"""How django-allauth fits Tokendesk (ACCOUNT_ADAPTER): no public sign-up unless a setting
opens it, the client address seen through trusted proxies (ops), and a lockout message that
says how long to wait."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

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
