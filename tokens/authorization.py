"""The one place that decides, for (token, permission, organization, project), whether a
call is allowed, or answers 403 (insufficient scope) or 404 (outside the token's reach).

Scope (the token's kind) limits *where* a token reaches; permissions limit *what* it may do
there; a personal token is further capped by its user's role at the time of the request."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from orgs import access, lifecycle
from orgs.access import ADMIN_ROLES
from orgs.models import AuditEvent, Membership, Organization, Project
from tokens import allowlist
from tokens import permissions as perms
from tokens.credential import Credential
from tokens.models import Token, TokenQuerySet

Kind = Token.Kind
ORG_WIDE_KINDS = (Kind.CI, Kind.SERVER)


class Denied(Exception):
    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def insufficient_scope(detail: str) -> Denied:
    return Denied(403, "insufficient_scope", detail)


def not_found() -> Denied:
    return Denied(404, "not_found", "No such object, or it is outside this token's scope.")


@dataclass(frozen=True)
class Scope:
    """What an allowed call may touch: the organization and project it resolved to."""

    token: Credential
    organization: Organization | None = None
    project: Project | None = None
    role: str | None = None  # the personal token user's role in `organization`


def authorize(
    token: Credential,
    permission: str,
    *,
    org_slug: str | None = None,
    project_slug: str | None = None,
) -> Scope:
    if not token.allows(permission):
        raise insufficient_scope(f"This token lacks the {permission} permission.")
    if org_slug is None:
        return Scope(token)
    organization, role = _reach_organization(token, org_slug)
    check_lifetime_policy(token, organization)
    if role is not None and permission not in perms.MEMBER_ROLE_CEILINGS[role]:
        raise insufficient_scope(
            f"Your role in {organization.slug} ({role}) does not allow {permission}."
        )
    project = _reach_project(token, organization, project_slug) if project_slug else None
    return Scope(token, organization, project, role)


def _reach_organization(token: Credential, org_slug: str) -> tuple[Organization, str | None]:
    if token.kind == Kind.PERSONAL:
        membership = (
            Membership.objects.select_related("organization")
            .filter(user_id=token.user_id, organization__slug=org_slug)
            .first()
        )
        if membership is None:
            raise not_found()
        return membership.organization, membership.role
    # CI, server and deployment tokens carry their organization (joined at verification).
    if token.organization_slug != org_slug:
        raise not_found()
    return token.organization, None


def check_lifetime_policy(token: Credential | Token, organization: Organization | None) -> None:
    """A personal token whose lifetime breaks the organization's policy (no expiry where one
    is required, or longer than its maximum) is refused on that organization's resources,
    and keeps working elsewhere. Decided from the token's own columns and the organization
    row the caller already has: no query."""
    if token.kind != Kind.PERSONAL or organization is None:
        return
    policy = lifecycle.policy_of(organization)
    reason = lifecycle.lifetime_breach(
        policy, created_at=token.created_at, expires_at=token.expires_at
    )
    if reason is None:
        return
    if token.expires_at is None:
        why = "requires personal tokens used on its resources to expire, and this token never does"
    else:
        days = lifecycle.lifetime_days(token.created_at, token.expires_at)
        why = (
            "allows personal tokens used on its resources to live at most "
            f"{policy.max_lifetime_days} days, and this token's lifetime is {days} days"
        )
    raise Denied(
        403,
        "token_lifetime_exceeds_policy",
        f"{organization.name} {why}. Create a personal token with a shorter expiration for "
        "it; this one keeps working elsewhere.",
    )


def policy_allows(token: Credential, path: str = "organization") -> Q:
    """The organizations (reached through `path`) whose lifetime policy this personal
    token meets, as a filter: check_lifetime_policy for a whole list at once."""
    if token.expires_at is None:
        return Q(
            **{f"{path}__require_token_expiry": False, f"{path}__max_token_lifetime_days": None}
        )
    days = lifecycle.lifetime_days(token.created_at, token.expires_at)
    return Q(**{f"{path}__max_token_lifetime_days": None}) | Q(
        **{f"{path}__max_token_lifetime_days__gte": days}
    )


def _reach_project(token: Credential, organization: Organization, project_slug: str) -> Project:
    if token.kind == Kind.DEPLOYMENT:
        if token.project_slug != project_slug or token.project_deleted_at is not None:
            raise not_found()
        return token.project
    project = Project.objects.filter(organization=organization, slug=project_slug).first()
    if project is None:
        raise not_found()
    project.organization = organization  # already loaded: naming the project needs it
    return project


def reachable_organizations(token: Credential) -> QuerySet[Organization]:
    if token.kind == Kind.PERSONAL:
        return Organization.objects.filter(memberships__user_id=token.user_id)
    return Organization.objects.filter(pk=token.organization_id)


def reachable_projects(scope: Scope) -> QuerySet[Project]:
    projects = Project.objects.filter(organization=scope.organization)
    if scope.token.kind == Kind.DEPLOYMENT:
        projects = projects.filter(pk=scope.token.project_id)
    return projects


def reachable_audit_events(scope: Scope) -> QuerySet[AuditEvent]:
    """The organization's audit log for organization-wide callers; a deployment token reads
    only the events about its own project (the project and its deployment tokens), never the
    organization's members, policies or other projects."""
    events = AuditEvent.objects.filter(organization=scope.organization)
    if scope.token.kind == Kind.DEPLOYMENT:
        events = events.filter(project_id=scope.token.project_id)
    return events


def manageable_tokens(token: Credential, *, within_policy: bool = True) -> TokenQuerySet:
    """Tokens this token may see (tokens:read) and change (tokens:write). A personal token
    does not reach the tokens of organizations whose lifetime policy it breaks; with
    `within_policy` False they are included, for the caller to refuse them with
    check_lifetime_policy (a 403 that says why, rather than a 404)."""
    tokens = Token.objects.select_related("organization", "project")
    if token.kind == Kind.DEPLOYMENT:
        return tokens.filter(kind=Kind.DEPLOYMENT, project_id=token.project_id)
    if token.kind in ORG_WIDE_KINDS:
        return tokens.filter(
            kind__in=[Kind.CI, Kind.DEPLOYMENT, Kind.SERVER], organization_id=token.organization_id
        )
    within = policy_allows(token) if within_policy else Q()
    admin_orgs = (
        Membership.objects.filter(user_id=token.user_id, role__in=ADMIN_ROLES)
        .filter(within)
        .values("organization_id")
    )
    maintained = (
        Project.objects.filter(
            maintainers=token.user_id, organization__memberships__user_id=token.user_id
        )
        .filter(within)
        .values("pk")
    )
    return tokens.filter(
        Q(kind=Kind.PERSONAL, user_id=token.user_id)
        | Q(kind__in=[Kind.CI, Kind.DEPLOYMENT, Kind.SERVER], organization_id__in=admin_orgs)
        | Q(kind=Kind.DEPLOYMENT, project_id__in=maintained)
    )


def check_issue(
    requester: Credential,
    *,
    kind: str,
    permissions: frozenset[str],
    expires_in_days: int | None,
    organization: Organization | None = None,
    project: Project | None = None,
    allowed_ips: list[str] | tuple[str, ...] = (),
) -> None:
    """No privilege escalation: a token cannot mint a token that may do more, reach wider
    (in scope or in network addresses) or live longer than itself, nor outlast the right of
    the person behind it to do so."""
    if requester.kind == Kind.DEPLOYMENT:
        _check_creator_keeps_the_right(requester)
    missing = perms.effective(permissions) - perms.effective(requester.permissions)
    if missing:
        raise insufficient_scope(
            "A token cannot grant permissions it lacks: " + ", ".join(perms.ordered(missing)) + "."
        )
    if not allowlist.within(allowed_ips, requester.allowed_ips):
        raise insufficient_scope(
            "A token restricted to some IP addresses cannot create or renew a token usable "
            "from addresses outside them: give allowed_ips within "
            + ", ".join(requester.allowed_ips)
            + "."
        )
    if requester.expires_at is not None:
        new_expiry = timezone.now() + timedelta(days=expires_in_days or 0)
        if expires_in_days is None or new_expiry > requester.expires_at:
            raise insufficient_scope("A token cannot create a token that outlives it.")
    if kind == Kind.PERSONAL:
        if requester.kind != Kind.PERSONAL:
            raise insufficient_scope("Only a personal token can create personal tokens.")
        return
    target_org = organization or project.organization
    if requester.kind == Kind.PERSONAL:
        _check_member_may_issue(requester, kind, target_org, project, permissions)
    elif requester.organization_id != target_org.pk:
        raise not_found()
    elif requester.kind == Kind.DEPLOYMENT and (
        kind != Kind.DEPLOYMENT or project.pk != requester.project_id
    ):
        raise insufficient_scope("A deployment token can only create tokens for its own project.")


def _check_creator_keeps_the_right(requester: Credential) -> None:
    """A deployment token belongs to its project, so it keeps deploying after the person who
    created it leaves. Minting or resetting tokens extends that person's reach, though: it
    stops once they may no longer manage the project's deployment tokens themselves. Tokens
    created by the organization's CI tokens (no person behind them) are not limited."""
    if requester.created_by_id is None:
        return
    membership = (
        Membership.objects.select_related("user")
        .filter(user_id=requester.created_by_id, organization_id=requester.organization_id)
        .first()
    )
    if (
        membership is None
        or not membership.user.is_active
        or not access.can_manage_deployment_tokens(membership, requester.project)
    ):
        raise Denied(
            403,
            "creator_lost_access",
            "The person who created this token can no longer manage this project's "
            "deployment tokens, so it cannot create or reset tokens any more. It still "
            "deploys; a maintainer can create a new token if one is needed.",
        )


def _check_member_may_issue(requester, kind, organization, project, permissions) -> None:
    membership = Membership.objects.filter(
        user_id=requester.user_id, organization=organization
    ).first()
    if membership is None:
        raise not_found()
    check_lifetime_policy(requester, organization)
    is_admin = membership.role in ADMIN_ROLES
    if kind in ORG_WIDE_KINDS and not is_admin:
        raise insufficient_scope("Only owners and super admins can create organization tokens.")
    if (
        kind == Kind.DEPLOYMENT
        and not is_admin
        and not project.maintainers.filter(pk=requester.user_id).exists()
    ):
        raise insufficient_scope(
            "Only maintainers of this project can create its deployment tokens."
        )
    beyond_role = perms.effective(permissions) - perms.MEMBER_ROLE_CEILINGS[membership.role]
    if beyond_role:
        raise insufficient_scope(
            "Your role cannot grant: " + ", ".join(perms.ordered(beyond_role)) + "."
        )


def check_deploy_policy(scope: Scope) -> None:
    if scope.token.kind == Kind.PERSONAL and not scope.organization.allow_personal_token_deploys:
        raise Denied(
            403,
            "personal_token_deploys_disabled",
            f"{scope.organization.name} no longer accepts deployments authenticated with "
            "personal tokens. Create an organization CI token and store it as the "
            "TOKENDESK_TOKEN secret of your pipeline.",
        )
