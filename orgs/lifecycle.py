"""The organization's token lifecycle policy (issue 13): require an expiry, a maximum
lifetime, and idle revocation. The rules about the policy itself live here (what values are
allowed, when a change is stricter, whether a personal token's lifetime breaks it); the
tokens app reads the policy and applies it to tokens (tokens/lifecycle.py). orgs never
imports tokens."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import transaction

from lib.errors import RuleError
from lib.limits import MAX_TOKEN_LIFETIME_DAYS
from orgs import audit
from orgs.audit import Actor
from orgs.models import Organization

IDLE_DAYS_MIN = 30
IDLE_DAYS_MAX = 365
# The e-mail before an idle revocation goes out this long before it; a token is never
# revoked for being idle sooner than this after its warning.
IDLE_WARNING = timedelta(days=7)
FIELDS = ("require_expiry", "max_lifetime_days", "idle_revoke_days")


@dataclass(frozen=True)
class Policy:
    require_expiry: bool = False
    max_lifetime_days: int | None = None
    idle_revoke_days: int | None = None

    @property
    def expiry_required(self) -> bool:
        """A maximum lifetime requires an expiry too."""
        return self.require_expiry or self.max_lifetime_days is not None

    def as_dict(self) -> dict:
        return asdict(self)


def policy_of(organization: Organization) -> Policy:
    return Policy(
        require_expiry=organization.require_token_expiry,
        max_lifetime_days=organization.max_token_lifetime_days,
        idle_revoke_days=organization.idle_token_revoke_days,
    )


def clean(
    *, require_expiry: bool, max_lifetime_days: int | None, idle_revoke_days: int | None
) -> Policy:
    """A policy from checked values, or RuleError naming the field."""
    if max_lifetime_days is not None and not 1 <= max_lifetime_days <= MAX_TOKEN_LIFETIME_DAYS:
        raise RuleError(
            f"Choose between 1 and {MAX_TOKEN_LIFETIME_DAYS} days, or leave empty for no limit.",
            field="max_lifetime_days",
        )
    if idle_revoke_days is not None and not IDLE_DAYS_MIN <= idle_revoke_days <= IDLE_DAYS_MAX:
        raise RuleError(
            f"Choose between {IDLE_DAYS_MIN} and {IDLE_DAYS_MAX} days, or leave empty to "
            "never revoke idle tokens.",
            field="idle_revoke_days",
        )
    return Policy(bool(require_expiry), max_lifetime_days, idle_revoke_days)


def _lower(new: int | None, old: int | None) -> bool:
    """A limit is stricter when it appears or goes down."""
    return new is not None and (old is None or new < old)


def stricter_parts(old: Policy, new: Policy) -> list[str]:
    """The fields `new` tightens compared with `old` (empty: nothing gets stricter)."""
    parts = []
    if new.require_expiry and not old.require_expiry:
        parts.append("require_expiry")
    if _lower(new.max_lifetime_days, old.max_lifetime_days):
        parts.append("max_lifetime_days")
    if _lower(new.idle_revoke_days, old.idle_revoke_days):
        parts.append("idle_revoke_days")
    return parts


def lifetime_breach(
    policy: Policy, *, created_at: datetime, expires_at: datetime | None
) -> str | None:
    """Why a personal token of this lifetime may not be used on the organization, or None.
    The lifetime is what it was given (expires_at − created_at), not what is left of it."""
    if expires_at is None:
        if policy.expiry_required:
            return "it never expires"
        return None
    limit = policy.max_lifetime_days
    if limit is not None and expires_at - created_at > timedelta(days=limit):
        return f"its lifetime of {lifetime_days(created_at, expires_at)} days is over {limit}"
    return None


def lifetime_days(created_at: datetime, expires_at: datetime) -> int:
    """A lifetime in whole days, rounded up: 90 days and a minute read as 91."""
    lifetime = expires_at - created_at
    return lifetime.days + (1 if lifetime % timedelta(days=1) else 0)


def idle_revocation_at(
    *, idle_days: int, last_activity: datetime, warned_at: datetime | None, now: datetime
) -> datetime:
    """When a token idle since `last_activity` is revoked: `idle_days` after it, and never
    sooner than IDLE_WARNING after its warning (sent `warned_at`, or at the next run)."""
    due = last_activity + timedelta(days=idle_days)
    warned = warned_at if warned_at is not None and warned_at >= last_activity else None
    if warned is None:
        warned = max(now, due - IDLE_WARNING)
    return max(due, warned + IDLE_WARNING)


def organization_set_lifecycle_policy(
    *, organization: Organization, policy: Policy, actor: Actor
) -> bool:
    """Save the policy with its audit event (`org.token_policy`, from and to); saving the
    same policy again records nothing. Answers whether anything changed."""
    previous = policy_of(organization)
    if previous == policy:
        return False
    with transaction.atomic():
        organization.require_token_expiry = policy.require_expiry
        organization.max_token_lifetime_days = policy.max_lifetime_days
        organization.idle_token_revoke_days = policy.idle_revoke_days
        organization.save(
            update_fields=[
                "require_token_expiry",
                "max_token_lifetime_days",
                "idle_token_revoke_days",
            ]
        )
        audit.record(
            "org.token_policy", actor=actor, organization=organization,
            data={"from": previous.as_dict(), "to": policy.as_dict()},
        )  # fmt: skip
    return True
