"""E-mails about tokens: expiry notices and leak reports. Each is sent once."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.tasks import send_email
from orgs.access import ADMIN_ROLES
from orgs.models import Membership
from tokens.models import Token

NOTICE_PERIOD = timedelta(days=7)


def recipients(token: Token) -> list[str]:
    """Who answers for a token: its user; for organization tokens, the owners and super
    admins too."""
    emails = set()
    if token.user_id:
        emails.add(token.user.email)
    if token.kind != Token.Kind.PERSONAL and token.organization_id:
        emails.update(
            Membership.objects.filter(
                organization_id=token.organization_id, role__in=ADMIN_ROLES
            ).values_list("user__email", flat=True)
        )
    return sorted(emails)


def page_url(token: Token) -> str:
    if token.kind == Token.Kind.PERSONAL:
        path = reverse("tokens:personal")
    elif token.kind == Token.Kind.DEPLOYMENT:
        path = reverse("tokens:deployment", args=[token.organization.slug, token.project.slug])
    elif token.kind == Token.Kind.CI:
        path = reverse("tokens:ci", args=[token.organization.slug])
    else:
        path = reverse("tokens:deploy-auth", args=[token.organization.slug])
    return settings.SITE_URL + path


def notify_expiring_tokens(*, now: datetime | None = None) -> int:
    """E-mail about every token expiring within 7 days, once per token per expiry date.

    Each notice is claimed by a conditional UPDATE and queued (accounts.tasks.send_email) in
    the same transaction, so overlapping runs of several workers send it once. The worker's
    scheduler runs this every minute (events/scheduler.py)."""
    now = now or timezone.now()
    not_yet_notified = Q(expiry_notified_for__isnull=True) | ~Q(expiry_notified_for=F("expires_at"))
    due = (
        Token.objects.expiring_within(NOTICE_PERIOD, now=now)
        .made_to_last()
        .filter(not_yet_notified)
        .select_related("user", "organization", "project")
    )
    sent = 0
    for token in due:
        with transaction.atomic():
            claimed = (
                Token.objects.filter(pk=token.pk, expires_at=token.expires_at)
                .filter(not_yet_notified)
                .update(expiry_notified_for=F("expires_at"))
            )
            if not claimed:
                continue
            _send_expiry_notice(token)
            sent += 1
    return sent


def _send_expiry_notice(token: Token) -> None:
    when = token.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    send_email(
        recipients(token),
        f"Tokendesk: “{token.name}” expires on {when}",
        (
            f"The {token.get_kind_display().lower()} “{token.name}” ({token.preview}) "
            f"expires on {when}.\n\n"
            "Anything still using it will stop working then. To keep it working, create a "
            "new token (or reset a CI token) and update the secret where it is stored:\n"
            f"{page_url(token)}\n"
        ),
    )


def send_leak_notice(token: Token) -> None:
    send_email(
        recipients(token),
        f"Tokendesk: “{token.name}” was exposed and has been revoked",
        (
            f"The {token.get_kind_display().lower()} “{token.name}” ({token.preview}) was "
            "reported as publicly exposed (for example by a secret scanner) and has been "
            "revoked. Anything using it has stopped working.\n\n"
            "Create a new token, store it only in a secret manager or CI secret, and find "
            f"where the old one leaked:\n{page_url(token)}\n"
        ),
    )
