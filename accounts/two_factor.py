"""Does a person sign in with a second factor? The one answer the organization policy
"Require two-factor authentication" asks.

Second factors are django-allauth's authenticators: an authenticator app (TOTP) or a
security key / passkey (WebAuthn). Recovery codes alone are not a second factor."""

from collections.abc import Iterable

from allauth.mfa.models import Authenticator

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_two_factor(user) -> bool:
    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists()


def users_with_two_factor(user_ids: Iterable[int]) -> set[int]:
    """Of these users, the ids of those with a second factor: one query for a whole list."""
    return set(
        Authenticator.objects.filter(
            user_id__in=list(user_ids), type__in=SECOND_FACTORS
        ).values_list("user_id", flat=True)
    )


def enrolled_users():
    """The users with a second factor, as a subquery."""
    return Authenticator.objects.filter(type__in=SECOND_FACTORS).values("user_id")
