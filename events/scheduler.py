"""Scheduled work, run by every `manage.py worker` once a SCHEDULER_INTERVAL_SECONDS.

Each piece is safe with several workers running it at the same moment: expiry e-mails are
claimed by a conditional UPDATE (tokens.notifications), expiry events by a unique row
(ExpiryNotice), idle-token warnings and revocations by a conditional UPDATE of the token
(tokens.lifecycle), webhook retries by a conditional UPDATE of the delivery
(services.attempt)."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from events import services
from events.models import ExpiryNotice
from tokens import usage
from tokens.lifecycle import revoke_idle_tokens
from tokens.models import Token
from tokens.notifications import notify_expiring_tokens
from trust.services import prune_exchanged_tokens

logger = logging.getLogger(__name__)

EXPIRING_DAYS = (1, 7, 30)
# A token that expired while no worker ran is still announced, up to this long after.
EXPIRED_LOOKBACK = timedelta(days=7)


def _band(expires_at: datetime, now: datetime) -> int | None:
    """0 once expired, else the nearest of 1, 7 and 30 days it is within (None beyond)."""
    if expires_at <= now:
        return 0
    left = expires_at - now
    return next((days for days in EXPIRING_DAYS if left <= timedelta(days=days)), None)


def emit_expiry_events(*, now: datetime | None = None) -> int:
    """token.expiring 30, 7 and 1 days before (only the nearest one a token is within, so a
    token created 5 days before its expiry gets the 7-day event, not the 30-day one too) and
    token.expired: each once per token and expiry date, however many workers run this."""
    now = now or timezone.now()
    candidates = (
        Token.objects.unrevoked()
        .made_to_last()
        .filter(
            organization__isnull=False,
            expires_at__gt=now - EXPIRED_LOOKBACK,
            expires_at__lte=now + timedelta(days=max(EXPIRING_DAYS)),
        )
        .select_related("organization", "user", "project__organization")
    )
    tokens = [(token, _band(token.expires_at, now)) for token in candidates]
    done = set(
        ExpiryNotice.objects.filter(token_id__in=[t.pk for t, _ in tokens]).values_list(
            "token_id", "expires_at", "days"
        )
    )
    emitted = 0
    for token, days in tokens:
        if days is None or (token.pk, token.expires_at, days) in done:
            continue
        try:
            with transaction.atomic():
                ExpiryNotice.objects.create(
                    token_id=token.pk, expires_at=token.expires_at, days=days
                )
                event = "token.expired" if days == 0 else "token.expiring"
                extra = {} if days == 0 else {"days_left": days}
                services.emit(
                    event, token.organization, token=services.token_payload(token), **extra
                )
        except IntegrityError:
            continue  # another worker announced it first
        emitted += 1
    return emitted


FINISHED_JOBS_KEPT = timedelta(days=7)


# An e-mail job's arguments are the message, which may carry a secret link (an invitation):
# once sent (or failed, and logged), the row goes at the next tick.
SCRUBBED_AT_ONCE = ["accounts.tasks.deliver_email"]


def prune_finished_jobs(*, now: datetime) -> int:
    """The queue's table keeps each finished job (and why it failed) for a week, except
    e-mails, which are deleted as soon as they are finished."""
    old = Q(finished_at__lte=now - FINISHED_JOBS_KEPT) | Q(task_path__in=SCRUBBED_AT_ONCE)
    deleted, _ = DBTaskResult.objects.finished().filter(old).delete()
    return deleted


def _idle_count(run) -> int:
    return run.warned + run.revoked


SCHEDULED = [
    ("expiry e-mails", lambda now: notify_expiring_tokens(now=now)),
    ("expiry events", lambda now: emit_expiry_events(now=now)),
    # Warnings and revocations each claimed by a compare-and-set UPDATE (tokens/lifecycle.py).
    ("idle tokens", lambda now: _idle_count(revoke_idle_tokens(now=now))),
    ("webhook retries", lambda now: services.retry_due(now=now)),
    ("finished jobs pruned", lambda now: prune_finished_jobs(now=now)),
    ("token usage purged", lambda now: usage.purge(today=now.date())),
    ("exchanged tokens pruned", lambda now: prune_exchanged_tokens(now=now)),
]


def tick(*, now: datetime | None = None) -> dict[str, int]:
    """Run every scheduled piece once; one failing does not stop the others."""
    done = {}
    for name, run in SCHEDULED:
        try:
            done[name] = run(now or timezone.now())
        except Exception:
            logger.exception("Scheduled work %r failed", name)
    return done
