"""The organization's lifecycle policy (orgs/lifecycle.py) applied to tokens: which existing
tokens a policy catches and what happens to each (for the confirmation of a stricter one),
and idle revocation (`manage.py revoke_idle_tokens`, run by the worker every minute).

Idle revocation is safe with several hosts running it at once: the warning and the
revocation are each claimed by a conditional UPDATE that also checks the token was not used
meanwhile (compare-and-set on last_used_at, created_at, idle_warned_at and revoked_at), so
two runs warn once and revoke once, and a token used in between is neither."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.tasks import send_email
from orgs import audit
from orgs import lifecycle as policy_rules
from orgs.audit import Actor
from orgs.lifecycle import IDLE_WARNING, Policy
from orgs.models import Membership, Organization
from tokens.models import Token
from tokens.notifications import page_url, recipients
from tokens.services import REQUIRED_EXPIRY_DEFAULT_DAYS

Kind = Token.Kind
ORG_KINDS = (Kind.CI, Kind.DEPLOYMENT)
# The audit reason of an idle revocation: events turn it into `token.idle_revoked`.
IDLE_REASON = "idle"


def kind_label(token: Token) -> str:
    return {
        Kind.PERSONAL: "personal token",
        Kind.CI: "CI token",
        Kind.DEPLOYMENT: "deployment token",
        Kind.SERVER: "legacy server token",
    }[token.kind]


def personal_expiry_rules(user) -> list[str]:
    """For the personal token dialog: the organizations of `user` that refuse personal
    tokens without an expiry, or living longer than a maximum, on their resources."""
    rules = []
    organizations = Organization.objects.filter(memberships__user=user).filter(
        Q(require_token_expiry=True) | Q(max_token_lifetime_days__isnull=False)
    )
    for organization in organizations.order_by("name"):
        limit = organization.max_token_lifetime_days
        if limit is not None:
            rules.append(
                f"{organization.name} refuses personal tokens that never expire or live "
                f"longer than {limit} days."
            )
        else:
            rules.append(f"{organization.name} refuses personal tokens that never expire.")
    return rules


# What a policy would do to existing tokens ----------------------------------------------


@dataclass(frozen=True)
class Breach:
    """An existing token a policy catches: what it is, what breaks, what will happen."""

    token: Token
    label: str
    problem: str
    consequence: str


def _live(tokens: QuerySet[Token], now: datetime) -> QuerySet[Token]:
    return tokens.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def _label(token: Token) -> str:
    if token.kind == Kind.PERSONAL:
        return f"personal token “{token.name}” ({token.preview}) of {token.user.email}"
    where = f" of {token.project.slug}" if token.kind == Kind.DEPLOYMENT else ""
    return f"{kind_label(token)}{where} “{token.name}” ({token.preview})"


def _lifetime_breach(token: Token, policy: Policy) -> tuple[str, str] | None:
    """(problem, consequence) of an organization token the policy's expiry rules catch."""
    limit = policy.max_lifetime_days
    renewed = limit if limit is not None else REQUIRED_EXPIRY_DEFAULT_DAYS
    if token.expires_at is None:
        if not policy.expiry_required:
            return None
        return (
            "no expiry",
            f"keeps working until reset (a reset or rotation gives it {renewed} days); "
            "new tokens must expire",
        )
    days = policy_rules.lifetime_days(token.created_at, token.expires_at)
    if limit is not None and days > limit:
        return (
            f"lifetime {days} days > {limit}",
            f"keeps its expiry ({token.expires_at:%Y-%m-%d}); a reset or rotation gives it "
            f"{limit} days",
        )
    return None


def _idle_days_of_personal(organization: Organization) -> Subquery:
    """For each member, the idle limit their personal tokens would live under: the smallest
    of this organization's new one and their other organizations' (a Subquery)."""
    others = (
        Membership.objects.filter(
            user_id=OuterRef("user_id"), organization__idle_token_revoke_days__isnull=False
        )
        .exclude(organization=organization)
        .order_by("organization__idle_token_revoke_days")
        .values("organization__idle_token_revoke_days")[:1]
    )
    return Subquery(others)


def policy_breaches(
    organization: Organization, policy: Policy, *, now: datetime | None = None
) -> list[Breach]:
    """Every live token of the organization, and every live personal token of its members,
    that `policy` catches, with what will happen to it; organization tokens first."""
    now = now or timezone.now()
    breaches: list[Breach] = []
    org_tokens = _live(
        Token.objects.filter(kind__in=ORG_KINDS, organization=organization), now
    ).select_related("project")
    personal = _live(
        Token.objects.filter(kind=Kind.PERSONAL, user__memberships__organization=organization),
        now,
    ).select_related("user")
    if policy.expiry_required:
        for token in org_tokens.filter(_lifetime_candidates(policy)).order_by("name", "id"):
            found = _lifetime_breach(token, policy)
            if found:
                breaches.append(Breach(token, _label(token), *found))
        for token in personal.filter(_lifetime_candidates(policy)).order_by("user__email", "id"):
            reason = policy_rules.lifetime_breach(
                policy, created_at=token.created_at, expires_at=token.expires_at
            )
            if reason:
                breaches.append(
                    Breach(
                        token,
                        _label(token),
                        _short(token),
                        f"refused on {organization.name}; keeps working elsewhere",
                    )
                )
    if policy.idle_revoke_days is not None:
        breaches += _idle_breaches(organization, policy, org_tokens, personal, now)
    return breaches


def _lifetime_candidates(policy: Policy) -> Q:
    """Tokens that may break the expiry rules (the exact lifetime is checked in Python)."""
    candidates = Q(expires_at__isnull=True)
    if policy.max_lifetime_days is not None:
        shortest = timedelta(days=policy.max_lifetime_days)
        candidates |= Q(expires_at__gt=F("created_at") + shortest)
    return candidates


def _short(token: Token) -> str:
    if token.expires_at is None:
        return "no expiry"
    days = policy_rules.lifetime_days(token.created_at, token.expires_at)
    return f"lifetime {days} days"


def _idle_breaches(organization, policy, org_tokens, personal, now) -> list[Breach]:
    days = policy.idle_revoke_days
    # Warned from IDLE_WARNING before the limit, so listed from then too.
    soon = now - (timedelta(days=days) - IDLE_WARNING)
    activity = Coalesce("last_used_at", "created_at")
    org_idle = org_tokens.annotate(activity=activity)
    others = _idle_days_of_personal(organization)
    personal_idle = personal.annotate(activity=activity, other_days=others)
    found = []
    for token in org_idle.filter(activity__lte=soon).order_by("activity", "id"):
        found.append(_idle_breach(token, days, now))
    shortest = timedelta(days=policy_rules.IDLE_DAYS_MIN) - IDLE_WARNING
    for token in personal_idle.filter(activity__lte=now - shortest).order_by("activity", "id"):
        effective = min(days, token.other_days or days)
        if token.activity <= now - (timedelta(days=effective) - IDLE_WARNING):
            found.append(_idle_breach(token, effective, now))
    return found


def _idle_breach(token: Token, days: int, now: datetime) -> Breach:
    when = policy_rules.idle_revocation_at(
        idle_days=days, last_activity=token.activity, warned_at=token.idle_warned_at, now=now
    )
    unused = (now - token.activity).days
    told = "its owner" if token.kind == Kind.PERSONAL else "the organization's owners"
    return Breach(
        token,
        _label(token),
        f"unused for {unused} days",
        f"revoked on {when:%Y-%m-%d} ({told} e-mailed 7 days before) unless used by then",
    )


# Idle revocation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IdleRun:
    warned: int
    revoked: int


def _idle_days() -> Case:
    """The idle limit a token lives under: its organization's for organization tokens; for
    a personal token, the smallest of its user's organizations'."""
    smallest = (
        Membership.objects.filter(
            user_id=OuterRef("user_id"), organization__idle_token_revoke_days__isnull=False
        )
        .order_by("organization__idle_token_revoke_days")
        .values("organization__idle_token_revoke_days")[:1]
    )
    return Case(
        When(kind=Kind.PERSONAL, then=Subquery(smallest)),
        When(kind__in=ORG_KINDS, then=F("organization__idle_token_revoke_days")),
        default=None,
    )


def _limits_in_use() -> list[int]:
    return sorted(
        set(
            Organization.objects.filter(idle_token_revoke_days__isnull=False).values_list(
                "idle_token_revoke_days", flat=True
            )
        )
    )


def _under_limit(days: int, now: datetime) -> QuerySet[Token]:
    """Live tokens whose idle limit is `days`. Only the tokens of organizations with a limit,
    and of their members, are looked at (through the owner indexes), never the whole table."""
    governed_orgs = Organization.objects.filter(idle_token_revoke_days__isnull=False)
    governed_users = Membership.objects.filter(organization__idle_token_revoke_days__isnull=False)
    governed = Q(kind__in=ORG_KINDS, organization_id__in=governed_orgs.values("pk")) | Q(
        kind=Kind.PERSONAL, user_id__in=governed_users.values("user_id")
    )
    return (
        _live(Token.objects.filter(governed), now)
        .annotate(idle_days=_idle_days(), activity=Coalesce("last_used_at", "created_at"))
        .filter(idle_days=days)
        .select_related("user", "organization", "project")
    )


def revoke_idle_tokens(*, now: datetime | None = None) -> IdleRun:
    """Warn about tokens that will be revoked for being idle in IDLE_WARNING, and revoke those
    whose warning is that old and that were not used since. Idempotent: each token is warned
    once per idle stretch and revoked once, however many runs overlap."""
    now = now or timezone.now()
    warned = revoked = 0
    for days in _limits_in_use():
        limit = timedelta(days=days)
        not_warned = Q(idle_warned_at__isnull=True) | Q(idle_warned_at__lt=F("activity"))
        to_warn = _under_limit(days, now).filter(
            not_warned, activity__lte=now - limit + IDLE_WARNING
        )
        for token in to_warn.order_by("activity", "id"):
            warned += _warn(token, days, now)
        to_revoke = _under_limit(days, now).filter(
            activity__lte=now - limit,
            idle_warned_at__gte=F("activity"),
            idle_warned_at__lte=now - IDLE_WARNING,
        )
        for token in to_revoke.order_by("activity", "id"):
            revoked += _revoke(token, days, now)
    return IdleRun(warned=warned, revoked=revoked)


def _unchanged(token: Token) -> QuerySet[Token]:
    """The token's row, if still live and neither used, renewed nor warned since it was
    read: the compare-and-set of every idle write."""
    same = Token.objects.filter(pk=token.pk, revoked_at__isnull=True, created_at=token.created_at)
    for name in ("last_used_at", "idle_warned_at"):
        value = getattr(token, name)
        same = same.filter(**({name: value} if value is not None else {f"{name}__isnull": True}))
    return same


def _warn(token: Token, days: int, now: datetime) -> int:
    with transaction.atomic():
        if not _unchanged(token).update(idle_warned_at=now):
            return 0
        when = policy_rules.idle_revocation_at(
            idle_days=days, last_activity=token.activity, warned_at=now, now=now
        )
        _send_idle_warning(token, days, when)
    return 1


def _revoke(token: Token, days: int, now: datetime) -> int:
    reason = f"unused for {days} days"
    with transaction.atomic():
        if not _unchanged(token).update(revoked_at=now, revoke_reason=reason):
            return 0
        token.revoked_at, token.revoke_reason = now, reason
        audit.record(
            "token.revoke",
            actor=Actor(),
            target=token,
            data={
                "reason": IDLE_REASON,
                "idle_days": days,
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            },
        )
    return 1


def _send_idle_warning(token: Token, days: int, when: datetime) -> None:
    last = (
        f"was last used on {token.last_used_at:%Y-%m-%d}"
        if token.last_used_at
        else f"has not been used since it was created or renewed on {token.created_at:%Y-%m-%d}"
    )
    if token.kind == Kind.PERSONAL:
        strictest = (
            Organization.objects.filter(memberships__user_id=token.user_id)
            .filter(idle_token_revoke_days=days)
            .order_by("name")
            .first()
        )
        who = strictest.name if strictest else "An organization you belong to"
        rule = f"{who} revokes tokens unused for {days} days (personal tokens included)."
    else:
        rule = f"{token.organization.name} revokes tokens unused for {days} days."
    day = f"{when:%Y-%m-%d %H:%M} UTC"
    send_email(
        recipients(token),
        f"Tokendesk: “{token.name}” will be revoked on {day}: it is unused",
        (
            f"The {token.get_kind_display().lower()} “{token.name}” ({token.preview}) {last}. "
            f"{rule}\n\nIt will be revoked on {day} unless it is used before then (any "
            "authenticated request counts). If nothing needs it any more, revoke it now:\n"
            f"{page_url(token)}\n"
        ),
    )
