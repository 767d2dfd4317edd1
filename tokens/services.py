"""The only code that writes tokens. Each call is one transaction with its audit event."""

import dataclasses
import functools
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from lib.errors import RuleError
from lib.limits import MAX_TOKEN_LIFETIME_DAYS
from orgs import audit
from orgs.audit import Actor
from tokens import allowlist, notifications, usage
from tokens import format as token_format
from tokens import permissions as perms
from tokens.credential import Credential
from tokens.lookup import credential_by_digest
from tokens.models import Token
from tokens.signals import token_verified

if TYPE_CHECKING:
    from accounts.models import User
    from orgs.models import Organization, Project

logger = logging.getLogger(__name__)

MIN_SALT_LENGTH = 32
NAME_MAX_LENGTH = Token._meta.get_field("name").max_length
# A reset or rotation of an organization token that never expired, where the organization
# requires an expiry but sets no maximum: the dialogs' default lifetime.
REQUIRED_EXPIRY_DEFAULT_DAYS = 30
# last_used_at is written at most once a minute so a busy token costs one SELECT per
# request, not a SELECT plus an UPDATE.
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenConfigurationError(ImproperlyConfigured):
    """TOKEN_HASH_SALT is missing or too short: no token can be issued or verified."""

    message = (
        "Token generation is not configured: TOKEN_HASH_SALT is missing or shorter than "
        f"{MIN_SALT_LENGTH} characters. Set it in the server's environment and restart."
    )

    def __str__(self) -> str:
        return self.message


class TokenNotRenewable(RuleError):
    """A rule forbids giving this token a new secret; the API answers `status` and `error`."""

    status = 409
    error = "legacy_token_not_renewable"


class IpNotAllowed(RuleError):
    """A valid token used from an address outside its allowlist."""

    status = 403
    error = "ip_not_allowed"


# A refused address is audited at most once a minute per token.
IP_DENIAL_AUDIT_SECONDS = 60


class InvalidToken(Exception):
    """Authentication failed. `reason` is for logs and tests, never for the client."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    token: Token
    plaintext: str = field(repr=False)


def hash_salt() -> str:
    salt = settings.TOKEN_HASH_SALT or ""
    if len(salt) < MIN_SALT_LENGTH:
        raise TokenConfigurationError()
    return salt


def salt_is_configured() -> bool:
    return len(settings.TOKEN_HASH_SALT or "") >= MIN_SALT_LENGTH


def previous_salts() -> list[str]:
    return [salt for salt in settings.TOKEN_HASH_SALT_PREVIOUS if salt]


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RuleError("Give the token a name.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise RuleError(f"Keep the name to {NAME_MAX_LENGTH} characters or fewer.", field="name")
    return name


def max_lifetime_days(kind: str, organization: "Organization | None") -> int | None:
    """An organization may cap the lifetime of the tokens it owns (CI and deployment)."""
    if organization is None or kind not in (Token.Kind.CI, Token.Kind.DEPLOYMENT):
        return None
    return organization.max_token_lifetime_days


def expiry_required(kind: str, organization: "Organization | None") -> bool:
    """The organization requires its tokens (CI and deployment) to expire: it says so, or
    sets a maximum lifetime (orgs/lifecycle.py)."""
    if organization is None or kind not in (Token.Kind.CI, Token.Kind.DEPLOYMENT):
        return False
    return organization.require_token_expiry or organization.max_token_lifetime_days is not None


def expiry_for(
    expires_in_days: int | None,
    *,
    limit_days: int | None = None,
    required: bool = False,
    now=None,
) -> "datetime | None":
    if expires_in_days is None:
        expires_in_days = limit_days
    if expires_in_days is None:
        if required:
            raise RuleError(
                "This organization requires its tokens to expire: choose an expiration.",
                field="expires_in_days",
            )
        return None
    if not 1 <= expires_in_days <= MAX_TOKEN_LIFETIME_DAYS:
        raise RuleError(
            f"Expiry must be between 1 and {MAX_TOKEN_LIFETIME_DAYS} days.", field="expires_in_days"
        )
    if limit_days is not None and expires_in_days > limit_days:
        raise RuleError(
            f"This organization allows these tokens to live at most {limit_days} days.",
            field="expires_in_days",
        )
    return (now or timezone.now()) + timedelta(days=expires_in_days)


@sensitive_variables("plaintext")
def token_issue(
    *,
    kind: str,
    name: str,
    permissions: frozenset[str],
    actor: Actor,
    user: "User | None" = None,
    organization: "Organization | None" = None,
    project: "Project | None" = None,
    role: str = "",
    description: str = "",
    expires_in_days: int | None = None,
    allowed_ips: list[str] | None = None,
    lifetime: timedelta | None = None,
) -> IssuedToken:
    """`lifetime` instead of `expires_in_days`: a credential that lives minutes (trust/),
    always within the organization's limit in days."""
    salt = hash_salt()
    name = clean_name(name)
    allowed_ips = allowlist.clean(allowed_ips or [])
    now = timezone.now()
    organization = organization or (project.organization if project else None)
    limit_days = max_lifetime_days(kind, organization)
    if lifetime is not None:
        if limit_days is not None:
            lifetime = min(lifetime, timedelta(days=limit_days))
        expires_at = now + lifetime
    else:
        expires_at = expiry_for(
            expires_in_days,
            limit_days=limit_days,
            required=expiry_required(kind, organization),
            now=now,
        )
    if not permissions:
        raise RuleError("Choose at least one permission.", field="permissions")
    plaintext = token_format.generate(kind, settings.TOKEN_PREFIX)
    creating_token = actor.token
    token = Token(
        kind=kind,
        name=name,
        description=description.strip(),
        user=user,
        organization=organization,
        project=project,
        role=role,
        permissions=sorted(permissions),
        digest=token_format.digest(plaintext, salt),
        salt_fingerprint=token_format.salt_fingerprint(salt),
        preview=token_format.preview(plaintext),
        created_by_id=_answering_person_id(actor),
        created_by_token_id=creating_token.pk if creating_token is not None else None,
        created_at=now,
        expires_at=expires_at,
        allowed_ips=allowed_ips,
    )
    try:
        with transaction.atomic():
            token.save()
            audit.record("token.create", actor=actor, target=token)
    except IntegrityError:
        if not _live_name_taken(token):
            raise
        raise RuleError(
            f"An active token named “{name}” already exists. Pick another name.", field="name"
        ) from None
    return IssuedToken(token=token, plaintext=plaintext)


def _answering_person_id(actor: Actor) -> int | None:
    """Who a new token answers to. A deployment token acts for the person behind it, so what
    it mints answers to that person too: a chain of tokens never hides who started it. A CI
    token is the organization's own credential: what it mints answers to no one person."""
    if actor.user is not None:
        return actor.user.pk
    if actor.token is not None and actor.token.kind == Token.Kind.DEPLOYMENT:
        return actor.token.created_by_id
    return None


def _live_name_taken(token: Token) -> bool:
    same_owner = {
        Token.Kind.PERSONAL: {"user": token.user},
        Token.Kind.CI: {"organization": token.organization},
    }.get(token.kind)
    if same_owner is None:
        return False
    return (
        Token.objects.unrevoked()
        .filter(kind=token.kind, name__iexact=token.name, **same_owner)
        .exists()
    )


@sensitive_variables("plaintext")
def token_verify(plaintext: str, *, ip: str | None = None) -> Credential:
    """Format and checksum first (no query), then one indexed lookup by digest. Each outcome
    is announced (tokens.signals.token_verified) for /metrics."""
    started = time.perf_counter()
    try:
        credential = _verify(plaintext, ip=ip)
    except InvalidToken as error:
        token_verified.send(Credential, outcome=error.reason, seconds=time.perf_counter() - started)
        raise
    except IpNotAllowed:
        token_verified.send(
            Credential, outcome="ip_not_allowed", seconds=time.perf_counter() - started
        )
        raise
    token_verified.send(Credential, outcome="valid", seconds=time.perf_counter() - started)
    return credential


@sensitive_variables("plaintext")
def _verify(plaintext: str, *, ip: str | None) -> Credential:
    try:
        parsed = token_format.parse(plaintext, settings.TOKEN_PREFIX)
    except token_format.BadChecksum:
        raise InvalidToken("bad_checksum") from None
    except token_format.MalformedToken:
        raise InvalidToken("malformed") from None
    salt = hash_salt()
    digest = token_format.digest(plaintext, salt)
    previous = previous_salts()
    candidates = [digest, *(token_format.digest(plaintext, old) for old in previous)]
    credential = credential_by_digest(candidates)
    if credential is None or credential.kind != parsed.kind:
        raise InvalidToken("unknown")
    if credential.revoked_at is not None:
        raise InvalidToken("revoked")
    now = timezone.now()
    if credential.is_expired(now):
        raise InvalidToken("expired")
    if credential.matched_previous and (
        credential.previous_valid_until is None or credential.previous_valid_until <= now
    ):
        raise InvalidToken("rotated")
    if credential.user_id is not None and not credential.user_is_active:
        raise InvalidToken("inactive_user")
    if not allowlist.allows(credential.allowed_ips, ip):
        _audit_ip_denial(credential, ip)
        raise IpNotAllowed(f"This token may not be used from your address, {ip or 'unknown'}.")
    # The new secret's first use ends an "until first use" overlap: once, audited.
    if (
        not credential.matched_previous
        and credential.previous_until_first_use
        and credential.previous_digest is not None
        and _best_effort(_end_overlap_on_first_use, credential, ip=ip, now=now)
    ):
        credential = dataclasses.replace(
            credential,
            previous_digest=None,
            previous_valid_until=None,
            previous_until_first_use=False,
        )
    # (A previous secret is never moved onto the current salt: it is on its way out.)
    if not credential.matched_previous and (
        credential.digest != digest or not credential.salt_fingerprint
    ):
        fingerprint = token_format.salt_fingerprint(salt)
        if _best_effort(_redigest, credential, digest=digest, fingerprint=fingerprint):
            credential = dataclasses.replace(
                credential, digest=digest, salt_fingerprint=fingerprint
            )
    if _needs_touch(credential.last_used_at, now) and _best_effort(
        _touch, credential, ip=ip, now=now
    ):
        credential = dataclasses.replace(credential, last_used_at=now)
    return credential


def _best_effort(write, token: "Token | Credential", **kwargs) -> bool:
    """Bookkeeping on the request path (last use, re-digest) must never fail the request:
    a database that is locked or refuses the write is logged and the write skipped. The
    savepoint keeps an enclosing transaction usable."""
    try:
        with transaction.atomic():
            return bool(write(token, **kwargs))
    except DatabaseError as error:
        # The token's id only: never the token or its digest.
        logger.warning("skipped %s for token %s: %s", write.__name__, token.pk, error)
        return False


def _redigest(credential: Credential, *, digest: str, fingerprint: str) -> int:
    """Move a token verified under a previous salt onto the current one (salt rotation)."""
    return Token.objects.filter(pk=credential.pk, digest=credential.digest).update(
        digest=digest, salt_fingerprint=fingerprint
    )


def _audit_ip_denial(credential: Credential, ip: str | None) -> None:
    # cache.add is atomic in every backend: one process per minute wins and records.
    if not cache.add(f"token-ip-denied:{credential.pk}", 1, IP_DENIAL_AUDIT_SECONDS):
        return

    def record(credential: Credential) -> bool:
        row = credential.fetch_token()
        audit.record(
            "token.ip_denied",
            actor=Actor(user=row.user, token=row, ip=ip),
            target=row,
            data={"address": ip or ""},
        )
        return True

    record.__name__ = "ip_denial_audit"
    _best_effort(record, credential)


def _end_overlap_on_first_use(credential: Credential, *, ip: str | None, now) -> int:
    ended = Token.objects.filter(
        pk=credential.pk, digest=credential.digest, previous_digest=credential.previous_digest
    ).update(previous_digest=None, previous_valid_until=None, previous_until_first_use=False)
    if ended:
        row = credential.fetch_token()
        audit.record(
            "token.rotation_first_use",
            actor=Actor(user=row.user, token=row, ip=ip),
            target=row,
            data={"overlap_ended": now.isoformat()},
        )
    return ended


def tokens_on_previous_salts() -> int:
    current = token_format.salt_fingerprint(hash_salt())
    return Token.objects.unrevoked().exclude(salt_fingerprint=current).count()


def _needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= TOUCH_INTERVAL


def token_touch(token: "Token | Credential", *, ip: str | None, now=None) -> bool:
    """Record a use, at most once a minute per token across every process."""
    now = now or timezone.now()
    if not _needs_touch(token.last_used_at, now):
        return False
    written = _best_effort(_touch, token, ip=ip, now=now)
    if written and isinstance(token, Token):
        token.last_used_at, token.last_used_ip = now, ip
    return written


def _touch(token: "Token | Credential", *, ip: str | None, now) -> bool:
    # Conditional, so concurrent requests of many processes still write once a minute.
    written = (
        Token.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - TOUCH_INTERVAL))
        .update(last_used_at=now, last_used_ip=ip)
    )
    if written and token.kind == Token.Kind.SERVER:
        # Recorded for the deploy-auth page, at the same once-a-minute rate.
        row = token if isinstance(token, Token) else token.fetch_token()
        audit.record("legacy.use", actor=Actor(user=row.user, token=row, ip=ip), target=row)
    return bool(written)


def token_revoke(*, token: Token, actor: Actor, reason: str = "") -> bool:
    """Revoke once. A concurrent second revoke updates nothing and records nothing. The row
    stays, marked revoked, for the audit log."""
    return _revoke(token, actor=actor, reason=reason, action="token.revoke")


def _revoke(token: Token, *, actor: Actor, reason: str, action: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        revoked = Token.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor.user, revoke_reason=reason[:200]
        )
        if revoked:
            token.revoked_at, token.revoked_by, token.revoke_reason = now, actor.user, reason
            audit.record(
                action, actor=actor, target=token, data={"reason": reason} if reason else {}
            )
    return bool(revoked)


def tokens_revoke_all(*, user: "User", actor: Actor) -> int:
    """Revoke every live personal token of `user` in one UPDATE."""
    with transaction.atomic():
        count = (
            Token.objects.personal_for(user)
            .unrevoked()
            .update(revoked_at=timezone.now(), revoked_by=actor.user, revoke_reason="revoke all")
        )
        if count:
            audit.record("token.revoke_all", actor=actor, data={"count": count})
    return count


def ensure_renewable(token: Token) -> None:
    """Legacy server tokens are on their way out: they are listed and revoked, never given a
    new secret (reset or rotation), so each one ends with the pipeline that still uses it."""
    if token.kind == Token.Kind.SERVER:
        raise TokenNotRenewable(
            "Legacy server tokens cannot be reset or rotated: they can only be revoked. "
            "Create a CI token for the pipeline that uses it, then revoke this one."
        )


@sensitive_variables("plaintext")
def token_reset(*, token: Token, actor: Actor) -> IssuedToken:
    """New secret, same id, name, role and lifetime; the old secret stops working at once."""
    ensure_renewable(token)
    salt = hash_salt()
    plaintext = token_format.generate(token.kind, settings.TOKEN_PREFIX)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_live(token)
        locked.expires_at = _renewed_expiry(locked, now)
        locked.created_at = now
        locked.digest = token_format.digest(plaintext, salt)
        locked.salt_fingerprint = token_format.salt_fingerprint(salt)
        locked.preview = token_format.preview(plaintext)
        locked.last_used_at = locked.last_used_ip = None
        # A reset is for a leaked secret: a rotation's previous secret ends with it too.
        _clear_previous(locked)
        locked.save(update_fields=[*_SECRET_FIELDS, *_PREVIOUS_FIELDS])
        audit.record("token.reset", actor=actor, target=locked)
    return IssuedToken(token=locked, plaintext=plaintext)


_SECRET_FIELDS = (
    "digest",
    "salt_fingerprint",
    "preview",
    "created_at",
    "expires_at",
    "last_used_at",
    "last_used_ip",
)
_PREVIOUS_FIELDS = (
    "previous_digest",
    "previous_preview",
    "previous_valid_until",
    "previous_until_first_use",
)
# The overlaps a rotation offers, in hours: one hour, a day, a week.
OVERLAP_HOURS = (1, 24, 168)


def _clear_previous(token: Token) -> None:
    token.previous_digest = None
    token.previous_preview = ""
    token.previous_valid_until = None
    token.previous_until_first_use = False


def _locked_live(token: Token) -> Token:
    locked = (
        Token.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=token.pk)
    )
    if locked.is_revoked:
        raise RuleError("This token was revoked; create a new one instead.")
    return locked


def _renewed_expiry(locked: Token, now) -> "datetime | None":
    """A new secret lives as long as the old one did (capped by the organization; one that
    never expired gets REQUIRED_EXPIRY_DEFAULT_DAYS where the organization requires an
    expiry without setting a maximum)."""
    lifetime = locked.expires_at - locked.created_at if locked.expires_at else None
    limit_days = max_lifetime_days(locked.kind, locked.organization)
    if limit_days is not None:
        lifetime = min(lifetime or timedelta(days=limit_days), timedelta(days=limit_days))
    elif lifetime is None and expiry_required(locked.kind, locked.organization):
        lifetime = timedelta(days=REQUIRED_EXPIRY_DEFAULT_DAYS)
    return now + lifetime if lifetime else None


@sensitive_variables("plaintext")
def token_rotate(
    *, token: Token, actor: Actor, overlap_hours: int, until_first_use: bool = False
) -> IssuedToken:
    """New secret for the same token (id, name, permissions, audit trail); the current secret
    keeps working for `overlap_hours` (1, 24 or 168), or until the new secret is first used
    when `until_first_use`, whichever comes first. Rotating again during an overlap ends the
    older secret: one current and one previous secret at most, whatever runs concurrently
    (the row is locked)."""
    ensure_renewable(token)
    if overlap_hours not in OVERLAP_HOURS:
        raise RuleError(
            "Choose an overlap of 1 hour, 24 hours or 7 days (overlap_hours 1, 24 or 168).",
            field="overlap_hours",
        )
    salt = hash_salt()
    plaintext = token_format.generate(token.kind, settings.TOKEN_PREFIX)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_live(token)
        previous_expires_at = locked.expires_at
        if previous_expires_at is not None and previous_expires_at <= now:
            raise RuleError("This token has expired; create a new one instead.")
        valid_until = now + timedelta(hours=overlap_hours)
        if previous_expires_at is not None:
            valid_until = min(valid_until, previous_expires_at)
        locked.previous_digest = locked.digest
        locked.previous_preview = locked.preview
        locked.previous_valid_until = valid_until
        locked.previous_until_first_use = until_first_use
        locked.expires_at = _renewed_expiry(locked, now)
        locked.created_at = now
        locked.digest = token_format.digest(plaintext, salt)
        locked.salt_fingerprint = token_format.salt_fingerprint(salt)
        locked.preview = token_format.preview(plaintext)
        locked.last_used_at = locked.last_used_ip = None
        locked.save(update_fields=[*_SECRET_FIELDS, *_PREVIOUS_FIELDS])
        audit.record(
            "token.rotate",
            actor=actor,
            target=locked,
            data={
                "previous": locked.previous_preview,
                "overlap_hours": overlap_hours,
                "until_first_use": until_first_use,
                "previous_valid_until": valid_until.isoformat(),
            },
        )
    return IssuedToken(token=locked, plaintext=plaintext)


class NarrowingRefused(RuleError):
    status = 409
    error = "narrowing_refused"


def token_narrow(*, token: Token, permissions: frozenset[str], actor: Actor) -> Token:
    """Take away permissions a token never used, keeping its secret: never adds one, never
    takes away one its calls needed (a write whose read was used stays), and only once it
    has been used for usage.MIN_USAGE_DAYS days. One transaction, audited."""
    usage.flush([token.pk])
    with transaction.atomic():
        locked = _locked_live(token)
        current = frozenset(locked.permissions)
        permissions = frozenset(permissions)
        if not permissions:
            raise NarrowingRefused("Keep at least one permission; revoke the token instead.")
        wider = perms.effective(permissions) - perms.effective(current)
        if wider:
            raise NarrowingRefused(
                "Narrowing never adds a permission: "
                + ", ".join(perms.ordered(wider))
                + " is not granted to this token."
            )
        if permissions == current:
            raise NarrowingRefused("These are already the token's permissions.")
        used, _, first_day = usage.used_permissions(locked)
        if first_day is None or (timezone.now().date() - first_day).days < usage.MIN_USAGE_DAYS:
            raise NarrowingRefused(
                f"This token has been used for less than {usage.MIN_USAGE_DAYS} days: "
                "wait until its usage shows what it needs."
            )
        needed = used - perms.effective(permissions)
        if needed:
            raise NarrowingRefused(
                "Its calls used " + ", ".join(perms.ordered(needed)) + ": keep them."
            )
        removed = perms.ordered(current - permissions)
        locked.permissions = perms.ordered(permissions)
        if locked.kind != Token.Kind.PERSONAL:
            locked.role = perms.role_for(permissions)
        locked.save(update_fields=["permissions", "role"])
        audit.record(
            "token.narrow",
            actor=actor,
            target=locked,
            data={"removed": removed, "permissions": locked.permissions},
        )
    token.permissions, token.role = locked.permissions, locked.role
    return locked


def token_end_overlap(*, token: Token, actor: Actor) -> bool:
    """The previous secret stops working now. False (nothing recorded) if no overlap runs."""
    now = timezone.now()
    with transaction.atomic():
        locked = Token.objects.select_for_update(of=("self",)).get(pk=token.pk)
        if locked.overlap_until(now) is None:
            return False
        previous = locked.previous_preview
        _clear_previous(locked)
        locked.save(update_fields=list(_PREVIOUS_FIELDS))
        audit.record("token.overlap_end", actor=actor, target=locked, data={"previous": previous})
    for name in _PREVIOUS_FIELDS:
        setattr(token, name, getattr(locked, name))
    return True


def tokens_revoke_for_project(*, project: "Project", actor: Actor) -> int:
    """A deleted project's deployment tokens stop working with it."""
    with transaction.atomic():
        tokens = list(Token.objects.filter(project=project).unrevoked())
        Token.objects.filter(pk__in=[t.pk for t in tokens]).update(
            revoked_at=timezone.now(), revoked_by=actor.user, revoke_reason="project deleted"
        )
        for token in tokens:
            audit.record(
                "token.revoke", actor=actor, target=token, data={"reason": "project deleted"}
            )
    return len(tokens)


def tokens_revoke_created_by(
    *,
    user: "User",
    organization: "Organization",
    project: "Project | None",
    actor: Actor,
    reason: str,
) -> int:
    """Revoke the live deployment tokens `user` created in `organization` (or for `project`),
    each audited, when they leave it and the remover asked for it."""
    with transaction.atomic():
        tokens = list(
            Token.objects.deployment_created_by(user, organization, project)
            .select_for_update(of=("self",))
            .select_related("project__organization")
        )
        return sum(
            _revoke(token, actor=actor, reason=reason, action="token.revoke") for token in tokens
        )


@dataclass(frozen=True)
class LeakReport:
    well_formed: int
    revoked: int


@sensitive_variables("plaintexts")
def tokens_revoke_leaked(plaintexts: list[str], *, actor: Actor) -> LeakReport:
    """Revoke every live token among `plaintexts` (reported leaked), audit each and e-mail
    whoever answers for it. Garbage and unknown tokens are ignored without a trace."""
    salts = [hash_salt(), *previous_salts()]
    well_formed = [p for p in plaintexts if token_format.is_well_formed(p, settings.TOKEN_PREFIX)]
    digests = {token_format.digest(p, salt) for p in well_formed for salt in salts}
    revoked = 0
    with transaction.atomic():
        leaked = (
            Token.objects.select_related("user", "organization", "project")
            # The previous secret of a rotation while its overlap lasts (after, it is dead).
            .filter(
                Q(digest__in=digests)
                | Q(previous_digest__in=digests, previous_valid_until__gt=timezone.now())
            )
            .unrevoked()
        )
        for token in leaked:
            if _revoke(token, actor=actor, reason="reported leaked", action="token.leak_report"):
                revoked += 1
                transaction.on_commit(functools.partial(notifications.send_leak_notice, token))
    return LeakReport(well_formed=len(well_formed), revoked=revoked)
