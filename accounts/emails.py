"""E-mail addresses a person has proven they receive mail at."""

from django.apps import apps


def mark_verified(user) -> None:
    """Following an e-mailed link (an invitation) proves the address: with django-allauth's
    accounts installed, record it as verified and primary, so a sign-in that requires a
    verified address does not send the person a second e-mail to confirm the first."""
    if not apps.is_installed("allauth.account"):
        return
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
