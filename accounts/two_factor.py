"""Does a person sign in with a second factor? The one answer the organization policy
"Require two-factor authentication" asks, whichever sign-in machinery is installed.

Authenticators are django-allauth's (`allauth.mfa`): an authenticator app (TOTP) or a
security key / passkey (WebAuthn). Recovery codes alone are not a second factor. Without
allauth.mfa installed nobody has one."""

from collections.abc import Iterable

from django.apps import apps
from django.urls import NoReverseMatch, reverse

SECOND_FACTORS = ("totp", "webauthn")
# Where a person enrols, first that exists: the security settings page, allauth's MFA page.
SETUP_URL_NAMES = ("security", "mfa_index")


def is_available() -> bool:
    return apps.is_installed("allauth.mfa")


def _authenticators():
    from allauth.mfa.models import Authenticator  # only importable when installed

    return Authenticator.objects.filter(type__in=SECOND_FACTORS)


def has_two_factor(user) -> bool:
    if not is_available() or not user.is_authenticated:
        return False
    return _authenticators().filter(user=user).exists()


def users_with_two_factor(user_ids: Iterable[int]) -> set[int]:
    """Of these users, the ids of those with a second factor: one query for a whole list."""
    if not is_available():
        return set()
    return set(
        _authenticators().filter(user_id__in=list(user_ids)).values_list("user_id", flat=True)
    )


def setup_url() -> str | None:
    for name in SETUP_URL_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None
