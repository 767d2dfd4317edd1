"""Trust policies and the exchange of an OIDC ID token for a short-lived deployment token.
The only code that writes trust policies and exchange records; each call is one transaction
with its audit events."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from lib.errors import RuleError
from orgs import audit
from orgs.audit import Actor
from orgs.models import Project
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import IssuedToken, token_issue
from trust import oidc
from trust.models import OidcExchange, TrustedPublisher

# The claims a policy may require, per issuer kind; all must equal the ID token's exactly.
CLAIMS: dict[str, tuple[str, ...]] = {
    "github": ("repository", "ref", "environment", "workflow_ref"),
    "gitlab": ("project_path", "ref", "environment"),
}
# Without it a policy would trust every repository of the provider: always required.
REQUIRED_CLAIM = {"github": "repository", "gitlab": "project_path"}
# What the short-lived token may hold: what a project's deployment token is for. Never
# tokens:write (a pipeline minting long-lived tokens undoes the point) nor org-wide reads.
PUBLISHER_PERMISSIONS = frozenset({"projects:read", "deployments:read", "deployments:write"})
DEFAULT_PERMISSIONS = frozenset({"projects:read", "deployments:write"})
MIN_LIFETIME_MINUTES, MAX_LIFETIME_MINUTES, DEFAULT_LIFETIME_MINUTES = 5, 60, 15
VALUE_MAX_LENGTH = 200


def issuer_kind(issuer: str) -> str | None:
    return settings.TRUSTED_PUBLISHER_ISSUERS.get(issuer)


def default_audience() -> str:
    return settings.TRUSTED_PUBLISHER_AUDIENCE


@dataclass(frozen=True)
class PolicyFields:
    issuer: str
    audience: str
    conditions: dict[str, str]
    permissions: frozenset[str]
    lifetime_minutes: int


def clean_policy(
    *,
    issuer: str,
    audience: str,
    conditions: dict[str, str],
    permissions: frozenset[str] | list[str],
    lifetime_minutes: int | None,
) -> PolicyFields:
    """The policy's fields checked, or RuleError next to the field at fault."""
    kind = issuer_kind(issuer)
    if kind is None:
        raise RuleError("Choose an issuer this server trusts.", field="issuer")
    audience = (audience or "").strip()
    if not audience:
        raise RuleError("Give the audience the ID token must carry.", field="audience")
    if len(audience) > VALUE_MAX_LENGTH:
        raise RuleError(f"Keep the audience to {VALUE_MAX_LENGTH} characters.", field="audience")
    cleaned = {}
    for claim, value in conditions.items():
        value = (value or "").strip()
        if not value:
            continue
        if claim not in CLAIMS[kind]:
            raise RuleError(f"This issuer's ID tokens have no {claim} claim.", field=claim)
        if len(value) > VALUE_MAX_LENGTH:
            raise RuleError(f"Keep it to {VALUE_MAX_LENGTH} characters.", field=claim)
        cleaned[claim] = value
    required = REQUIRED_CLAIM[kind]
    if required not in cleaned:
        raise RuleError(
            f"Give the {required}: without it every pipeline of this provider would match.",
            field=required,
        )
    try:
        granted = perms.normalize(permissions)
    except perms.UnknownPermission as error:
        raise RuleError(str(error), field="permissions") from None
    if not granted:
        raise RuleError("Choose at least one permission.", field="permissions")
    beyond = granted - PUBLISHER_PERMISSIONS
    if beyond:
        raise RuleError(
            "A trusted publisher's token is a deployment token: it cannot hold "
            + ", ".join(perms.ordered(beyond))
            + ".",
            field="permissions",
        )
    lifetime = DEFAULT_LIFETIME_MINUTES if lifetime_minutes is None else lifetime_minutes
    if not MIN_LIFETIME_MINUTES <= lifetime <= MAX_LIFETIME_MINUTES:
        raise RuleError(
            f"The lifetime is {MIN_LIFETIME_MINUTES} to {MAX_LIFETIME_MINUTES} minutes.",
            field="lifetime_minutes",
        )
    return PolicyFields(issuer, audience, cleaned, granted, lifetime)


def _changes(policy: TrustedPublisher) -> dict[str, Any]:
    return {
        "issuer": policy.issuer,
        "audience": policy.audience,
        "conditions": policy.conditions,
        "permissions": policy.permissions,
        "lifetime_minutes": policy.lifetime_minutes,
    }


def publisher_create(*, project: Project, fields: PolicyFields, actor: Actor) -> TrustedPublisher:
    with transaction.atomic():
        policy = TrustedPublisher.objects.create(
            project=project,
            issuer=fields.issuer,
            audience=fields.audience,
            conditions=fields.conditions,
            permissions=perms.ordered(fields.permissions),
            lifetime_minutes=fields.lifetime_minutes,
            created_by=actor.user,
        )
        audit.record("publisher.create", actor=actor, target=policy, data=_changes(policy))
    return policy


def publisher_update(
    *, policy: TrustedPublisher, fields: PolicyFields, actor: Actor
) -> TrustedPublisher:
    with transaction.atomic():
        before = _changes(policy)
        policy.issuer, policy.audience = fields.issuer, fields.audience
        policy.conditions = fields.conditions
        policy.permissions = perms.ordered(fields.permissions)
        policy.lifetime_minutes = fields.lifetime_minutes
        policy.updated_at = timezone.now()
        policy.save()
        after = _changes(policy)
        changed = {key: {"from": before[key], "to": after[key]} for key in after
                   if before[key] != after[key]}  # fmt: skip
        audit.record("publisher.update", actor=actor, target=policy, data=changed)
    return policy


def publisher_delete(*, policy: TrustedPublisher, actor: Actor) -> None:
    with transaction.atomic():
        audit.record("publisher.delete", actor=actor, target=policy, data=_changes(policy))
        policy.delete()


# The exchange -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublisherActor(Actor):
    """The pipeline that proved who it is: named in the audit log by its ID token's subject."""

    subject: str = ""

    @property
    def label(self) -> str:
        return f"trusted publisher {self.subject}"[:200]


@dataclass(frozen=True)
class Exchanged:
    issued: IssuedToken = field(repr=False)
    policy: TrustedPublisher
    matched: dict[str, str]


def _project(reference: str) -> Project | None:
    org_slug, _, project_slug = (reference or "").partition("/")
    if not org_slug or not project_slug:
        return None
    return (
        Project.objects.select_related("organization")
        .filter(organization__slug=org_slug, slug=project_slug)
        .first()
    )


def _audience_matches(claims: dict[str, Any], audience: str) -> bool:
    aud = claims.get("aud")
    return audience in (aud if isinstance(aud, list) else [aud])


def match_policy(
    policies: list[TrustedPublisher], claims: dict[str, Any]
) -> tuple[TrustedPublisher, dict[str, str]]:
    """The first policy whose audience and every condition the claims meet exactly, or a
    refusal naming, per policy, the claims that differ (not their values)."""
    misses = []
    for policy in policies:
        if not _audience_matches(claims, policy.audience):
            misses.append("aud")
            continue
        differing = [c for c, want in policy.conditions.items() if claims.get(c) != want]
        if not differing:
            return policy, dict(policy.conditions)
        misses.append(", ".join(sorted(differing)))
    raise oidc.IdTokenRefused(
        "claims: no trust policy of this project matches (differs: " + "; ".join(misses) + ")"
    )


@sensitive_variables("id_token", "issued")
def exchange(*, id_token: str, project: str, ip: str | None, user_agent: str = "") -> Exchanged:
    """Verify `id_token` against the trust policies of `project` ("org/project") and issue a
    short-lived deployment token. Raises oidc.IdTokenRefused or oidc.IssuerUnavailable."""
    header = oidc.read_header(id_token)
    issuer = oidc.unverified_issuer(id_token)
    target = _project(project)
    policies = (
        list(TrustedPublisher.objects.filter(project=target, issuer=issuer)) if target else []
    )
    if not policies:
        # The same answer for a project that does not exist: nothing to learn by probing.
        raise oidc.IdTokenRefused("policy: this project has no trust policy for this issuer")
    claims = oidc.verify(
        id_token,
        issuer=issuer,
        header=header,
        audiences=sorted({policy.audience for policy in policies}),
    )
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > VALUE_MAX_LENGTH:
        raise oidc.IdTokenRefused("missing claim: jti")
    try:
        id_token_expires_at = datetime.fromtimestamp(claims["exp"], tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise oidc.IdTokenRefused("malformed: exp is out of range") from None
    policy, matched = match_policy(policies, claims)
    if OidcExchange.objects.filter(issuer=issuer, jti=jti).exists():
        raise oidc.IdTokenRefused("replayed: this ID token was already exchanged")
    subject = str(claims.get("sub", ""))[:300]
    actor = PublisherActor(ip=ip, user_agent=user_agent[:300], subject=subject)
    try:
        with transaction.atomic():
            issued = token_issue(
                kind=Token.Kind.DEPLOYMENT,
                project=target,
                name=f"trusted publisher {subject}"[:100],
                role=perms.role_for(frozenset(policy.permissions)),
                permissions=frozenset(policy.permissions),
                lifetime=timedelta(minutes=policy.lifetime_minutes),
                actor=actor,
            )
            OidcExchange.objects.create(
                policy=policy,
                token=issued.token,
                issuer=issuer,
                jti=jti,
                subject=subject,
                claims=matched,
                id_token_expires_at=id_token_expires_at,
            )
            audit.record(
                "oidc.exchange",
                actor=actor,
                target=issued.token,
                data={
                    "policy": policy.pk,
                    "issuer": issuer,
                    "subject": subject,
                    "matched": matched,
                    "jti": jti,
                },
            )
    except IntegrityError:
        # A concurrent exchange of the same ID token won the race.
        raise oidc.IdTokenRefused("replayed: this ID token was already exchanged") from None
    return Exchanged(issued=issued, policy=policy, matched=matched)


def prune_exchanged_tokens(*, now: datetime) -> int:
    """Delete the tokens exchanges issued (with their exchange records) once they have been
    expired for TRUSTED_PUBLISHER_TOKENS_KEPT_DAYS: one per pipeline run, they would
    otherwise grow the token table without end. The audit log keeps each exchange. An ID
    token's `jti` needs its record only until the ID token expires, long before this."""
    cutoff = now - timedelta(days=settings.TRUSTED_PUBLISHER_TOKENS_KEPT_DAYS)
    expired = Token.objects.filter(oidc_exchange__isnull=False, expires_at__lt=cutoff)
    # In batches, so a backlog never holds one long transaction.
    deleted = 0
    while batch := list(expired.values_list("pk", flat=True)[:1000]):
        Token.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
    return deleted
