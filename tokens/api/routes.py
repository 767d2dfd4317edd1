"""The endpoints of docs/api.md. Each declares its permission with `requires`; none checks by
hand. Handlers parse, call the domain, and shape the answer."""

from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Query, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from lib.ids import parse_id
from orgs import audit, lifecycle
from orgs.audit import Actor
from orgs.models import Deployment, Organization, Project
from orgs.services import deployment_create
from tokens import allowlist, authorization, usage
from tokens import permissions as perms
from tokens.api.core import ApiRequest, address_limit_reached, api, requires
from tokens.api.schemas import (
    API_KINDS,
    KINDS_BY_NAME,
    AffectedTokenOut,
    AuditFilters,
    AuditPageOut,
    DeploymentIn,
    DeploymentOut,
    ErrorOut,
    IssuedTokenOut,
    KindName,
    LeakReportIn,
    LeakReportOut,
    LifecyclePolicyIn,
    LifecyclePolicyOut,
    LifecyclePolicyPatch,
    LifecyclePolicySavedOut,
    OrganizationOut,
    ProjectOut,
    Slug,
    Text,
    TokenCreateIn,
    TokenId,
    TokenOut,
    TokenRotateIn,
    UsageOut,
    WhoAmIOut,
)
from tokens.authorization import Denied, not_found
from tokens.credential import Credential
from tokens.lifecycle import policy_breaches
from tokens.models import Token
from tokens.services import (
    ensure_renewable,
    token_issue,
    token_reset,
    token_revoke,
    token_rotate,
    tokens_revoke_leaked,
)

# Every operation may answer these (414: tokens.middleware; 503: the database is away);
# operations that read a JSON body add 400 (not JSON) and 413 (too large).
ERRORS = {code: ErrorOut for code in (401, 403, 404, 409, 414, 422, 503)}
BODY_ERRORS = {**ERRORS, 400: ErrorOut, 413: ErrorOut}
MIN_PREVIEW_SECRET = 4


class Pages(LimitOffsetPagination):
    """Limit/offset pages with a bounded offset: a database integer, not any integer."""

    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=1_000_000_000)


def _no_store(response: HttpResponse) -> None:
    response["Cache-Control"] = "no-store"


@api.get("/whoami", response={200: WhoAmIOut, **ERRORS}, tags=["tokens"])
def whoami(request: ApiRequest):
    """The calling token's metadata and, for personal tokens, its user."""
    credential: Credential = request.auth
    user = {"email": credential.user_email} if credential.user_id else None
    return {"token": credential, "user": user}


# Organizations, projects, deployments ---------------------------------------------------


@api.get("/orgs", response={200: list[OrganizationOut], **ERRORS}, tags=["orgs"])
@requires("orgs:read")
@paginate(Pages)
def list_orgs(request: ApiRequest) -> QuerySet[Organization]:
    """Organizations the token reaches."""
    return authorization.reachable_organizations(request.auth).order_by("slug")


@api.get("/orgs/{org}/projects", response={200: list[ProjectOut], **ERRORS}, tags=["orgs"])
@requires("projects:read")
@paginate(Pages)
def list_projects(request: ApiRequest, org: Slug) -> QuerySet[Project]:
    """Projects of the organization within the token's scope."""
    return authorization.reachable_projects(request.scope).select_related("organization")


@api.post(
    "/orgs/{org}/projects/{project}/deployments",
    response={201: DeploymentOut, **BODY_ERRORS},
    tags=["orgs"],
)
@requires("deployments:write")
def create_deployment(request: ApiRequest, org: Slug, project: Slug, payload: DeploymentIn):
    """Record a deployment of the project, authenticated by the calling token."""
    scope = request.scope
    authorization.check_deploy_policy(scope)
    deployment = deployment_create(
        project=scope.project,
        ref=payload.ref,
        environment=payload.environment,
        actor=Actor.from_request(request, token=request.auth),
    )
    return Status(201, deployment)


@api.get(
    "/orgs/{org}/projects/{project}/deployments",
    response={200: list[DeploymentOut], **ERRORS},
    tags=["orgs"],
)
@requires("deployments:read")
@paginate(Pages)
def list_deployments(request: ApiRequest, org: Slug, project: Slug) -> QuerySet[Deployment]:
    """The project's deployments, newest first."""
    return (
        Deployment.objects.filter(project=request.scope.project)
        .select_related("project__organization", "created_by")
        .order_by("-created_at", "-id")
    )


@api.get("/orgs/{org}/audit", response={200: AuditPageOut, **ERRORS}, tags=["orgs"])
@requires("audit:read")
def list_audit_events(request: ApiRequest, org: Slug, filters: Query[AuditFilters]):
    """The organization's audit log, newest first, with keyset pagination (`before`); or,
    with `after`, the events newer than a cursor, oldest first, for a collector that polls.
    A deployment token reads only its own project's events."""
    events = authorization.reachable_audit_events(request.scope).matching(
        actor=filters.actor,
        action=filters.action,
        token=filters.token,
        since=filters.since,
        until=filters.until,
    )
    if filters.after is not None:
        try:
            items, cursor = audit.page_after(events, after=filters.after, size=filters.limit)
        except audit.BadCursor as error:
            raise Denied(422, "invalid_cursor", str(error)) from None
        return {"items": items, "next_before": None, "next_after": cursor}
    items, older = audit.page_of(events, before=filters.before, size=filters.limit)
    newest = audit.cursor_of(items[0]) if items and filters.before is None else None
    return {"items": items, "next_before": older, "next_after": newest}


# The organization's token lifecycle policy ---------------------------------------------

AFFECTED_SHOWN = 100


@api.get(
    "/orgs/{org}/token-policy",
    response={200: LifecyclePolicyOut, **ERRORS},
    tags=["orgs"],
    operation_id="get_token_policy",
)
@requires("orgs:read")
def get_token_policy(request: ApiRequest, org: Slug):
    """The organization's token lifecycle policy: require an expiry, the maximum lifetime,
    idle revocation (docs/ci-tokens.md#token-lifecycle-policy)."""
    return lifecycle.policy_of(_policy_holder(request)).as_dict()


def _policy_holder(request: ApiRequest) -> Organization:
    """The organization's whole row: an organization token's scope carries only the columns
    its verification joined."""
    return Organization.objects.get(pk=request.scope.organization.pk)


def _save_policy(request: ApiRequest, **changes):
    if request.auth.kind == Token.Kind.DEPLOYMENT:
        raise authorization.insufficient_scope(
            "A deployment token cannot change its organization's settings."
        )
    organization = _policy_holder(request)
    current = lifecycle.policy_of(organization).as_dict()
    policy = lifecycle.clean(**{**current, **changes})
    lifecycle.organization_set_lifecycle_policy(
        organization=organization,
        policy=policy,
        actor=Actor.from_request(request, token=request.auth),
    )
    breaches = policy_breaches(organization, policy)
    return {
        **policy.as_dict(),
        "affected_count": len(breaches),
        "affected": [
            AffectedTokenOut(
                id=breach.token.pk,
                kind=API_KINDS[breach.token.kind],
                name=breach.token.name,
                preview=breach.token.preview,
                owner=breach.token.user.email if breach.token.user_id else None,
                problem=breach.problem,
                consequence=breach.consequence,
            )
            for breach in breaches[:AFFECTED_SHOWN]
        ],
    }


@api.put(
    "/orgs/{org}/token-policy",
    response={200: LifecyclePolicySavedOut, **BODY_ERRORS},
    tags=["orgs"],
    operation_id="put_token_policy",
)
@requires("orgs:write")
def put_token_policy(request: ApiRequest, org: Slug, payload: LifecyclePolicyIn):
    """Replace the policy (audited as `org.token_policy`). It applies at once, with no
    confirmation: the answer lists the existing tokens it catches and what happens to each.
    Needs `orgs:write` (owners and super admins, or an organization token given it)."""
    return _save_policy(request, **payload.dict())


@api.patch(
    "/orgs/{org}/token-policy",
    response={200: LifecyclePolicySavedOut, **BODY_ERRORS},
    tags=["orgs"],
    operation_id="patch_token_policy",
)
@requires("orgs:write")
def patch_token_policy(request: ApiRequest, org: Slug, payload: LifecyclePolicyPatch):
    """Change only the fields given (null turns a limit off); otherwise as PUT."""
    return _save_policy(request, **payload.dict(exclude_unset=True))


# Tokens -----------------------------------------------------------------------------------


class TokenFilters(Schema):
    type: KindName | None = None
    org: Slug | None = None
    project: Text | None = Field(None, max_length=101)
    active: bool | None = Field(
        None, description="true: only usable tokens; false: only revoked or expired; unset: all"
    )


@api.get("/tokens", response={200: list[TokenOut], **ERRORS}, tags=["tokens"])
@requires("tokens:read")
@paginate(Pages)
def list_tokens(request: ApiRequest, filters: Query[TokenFilters]) -> QuerySet[Token]:
    """Token metadata the calling token may manage; never secrets."""
    tokens = authorization.manageable_tokens(request.auth)
    if filters.type:
        tokens = tokens.filter(kind=KINDS_BY_NAME[filters.type])
    if filters.org:
        tokens = tokens.filter(organization__slug=filters.org)
    if filters.project:
        org_slug, _, project_slug = filters.project.partition("/")
        tokens = tokens.filter(organization__slug=org_slug, project__slug=project_slug)
    if filters.active is not None:
        active = tokens.active()
        tokens = active if filters.active else tokens.exclude(pk__in=active.values("pk"))
    return tokens.order_by("-created_at", "-id")


def _target_of(payload: TokenCreateIn, requester: Credential):
    """(kind, organization, project, user) the new token would belong to, or 404."""
    if payload.project:
        org_slug, _, project_slug = payload.project.partition("/")
        project = (
            Project.objects.select_related("organization")
            .filter(organization__slug=org_slug, slug=project_slug)
            .first()
        )
        if project is None:
            raise not_found()
        return Token.Kind.DEPLOYMENT, project.organization, project, None
    if payload.org:
        organization = Organization.objects.filter(slug=payload.org).first()
        if organization is None:
            raise not_found()
        return Token.Kind.CI, organization, None, None
    return Token.Kind.PERSONAL, None, None, requester.user


def _grant_of(payload: TokenCreateIn, kind: str) -> tuple[frozenset[str], str]:
    try:
        if payload.permissions is not None:
            granted = perms.normalize(payload.permissions)
            return granted, (perms.role_for(granted) if kind != Token.Kind.PERSONAL else "")
        if payload.role is not None:
            return perms.for_role(payload.role), payload.role
    except perms.UnknownPermission as error:
        raise Denied(422, "unknown_permission", str(error)) from None
    except perms.UnknownRole as error:
        raise Denied(
            422, "unknown_role", f"{error} (use one of: {', '.join(perms.ROLE_PRESETS)})"
        ) from None
    return perms.DEFAULT_PERMISSIONS, ("ci" if kind != Token.Kind.PERSONAL else "")


@api.post("/tokens", response={201: IssuedTokenOut, **BODY_ERRORS}, tags=["tokens"])
@requires("tokens:write")
@sensitive_variables("issued")
def create_token(request: ApiRequest, payload: TokenCreateIn, response: HttpResponse):
    """Create a personal, CI (`org`) or deployment (`project`) token. The plaintext is in
    the answer once."""
    requester: Credential = request.auth
    kind, organization, project, user = _target_of(payload, requester)
    granted, role = _grant_of(payload, kind)
    allowed_ips = allowlist.clean(payload.allowed_ips or [])
    authorization.check_issue(
        requester,
        kind=kind,
        permissions=granted,
        expires_in_days=payload.expires_in_days,
        organization=organization,
        project=project,
        allowed_ips=allowed_ips,
    )
    issued = token_issue(
        kind=kind,
        name=payload.name,
        description=payload.description,
        permissions=granted,
        role=role,
        user=user,
        organization=organization,
        project=project,
        expires_in_days=payload.expires_in_days,
        allowed_ips=allowed_ips,
        actor=Actor.from_request(request, token=requester),
    )
    _no_store(response)
    # The only time this token is shown.
    return Status(201, IssuedTokenOut.of(issued))


def _manageable_or_404(request: ApiRequest, id_or_prefix: Text) -> Token:
    target = _find_manageable(request, id_or_prefix)
    authorization.check_lifetime_policy(request.auth, target.organization)
    return target


def _find_manageable(request: ApiRequest, id_or_prefix: Text) -> Token:
    tokens = authorization.manageable_tokens(request.auth, within_policy=False).unrevoked()
    if id_or_prefix.isascii() and id_or_prefix.isdecimal():
        token_id = parse_id(id_or_prefix)
        if token_id is None:
            raise not_found()
        return get_object_or_404(tokens, pk=token_id)
    prefix = id_or_prefix.strip()
    parts = prefix.split("_", 2)
    if len(parts) < 3 or len(parts[2]) < MIN_PREVIEW_SECRET:
        raise Denied(
            422,
            "validation_error",
            f"Give a token id or a preview prefix with at least {MIN_PREVIEW_SECRET} "
            "characters after the kind, e.g. tdk_ci_4fQz.",
        )
    matches = list(tokens.filter(preview__startswith=prefix)[:2])
    if not matches:
        raise not_found()
    if len(matches) > 1:
        raise Denied(409, "ambiguous", "More than one token matches that prefix: use the id.")
    return matches[0]


def _check_may_renew(request: ApiRequest, target: Token) -> None:
    """A new secret (reset or rotation) is a new token as far as escalation goes."""
    remaining = None
    if target.expires_at is not None:
        remaining = max(1, (target.expires_at - target.created_at).days)
    authorization.check_issue(
        request.auth,
        kind=target.kind,
        permissions=frozenset(target.permissions),
        expires_in_days=remaining,
        organization=target.organization,
        project=target.project,
        allowed_ips=target.allowed_ips,
    )


SELF_RESET_CONFIRMATION = (
    "Set to `self` when the token being reset is the one making the request: it stops "
    "working with this answer, which carries its new secret. Without it, a token resetting "
    "itself is refused with 409 `self_reset_requires_confirmation`."
)


@requires("tokens:write")
@sensitive_variables("issued")
def reset_token(
    request: ApiRequest,
    token_id: TokenId,
    response: HttpResponse,
    confirm: Literal["self"] | None = Query(None, description=SELF_RESET_CONFIRMATION),
):
    """A new secret for the same token; the old one stops working at once. Legacy server
    tokens are never reset (409 `legacy_token_not_renewable`); a token resetting itself
    needs `?confirm=self` (409 `self_reset_requires_confirmation` otherwise)."""
    target = _manageable_or_404(request, str(token_id))
    ensure_renewable(target)
    if target.pk == request.auth.pk and confirm != "self":
        raise Denied(
            409,
            "self_reset_requires_confirmation",
            "This token would reset itself and stop working; repeat with ?confirm=self to get "
            "its new secret in this answer.",
        )
    _check_may_renew(request, target)
    issued = token_reset(token=target, actor=Actor.from_request(request, token=request.auth))
    _no_store(response)
    # The only time this new secret is shown.
    return Status(200, IssuedTokenOut.of(issued))


api.post(
    "/tokens/{token_id}/reset",
    response={200: IssuedTokenOut, **ERRORS},
    tags=["tokens"],
    operation_id="reset_token",
)(reset_token)
# The name before "reset" settled (issue 10), kept for one release; docs/api.md.
api.post(
    "/tokens/{token_id}/regenerate",
    response={200: IssuedTokenOut, **ERRORS},
    tags=["tokens"],
    operation_id="regenerate_token",
    summary="Reset Token (deprecated: use /reset)",
    deprecated=True,
)(reset_token)


@api.post(
    "/tokens/{token_id}/rotate",
    response={200: IssuedTokenOut, **BODY_ERRORS},
    tags=["tokens"],
    operation_id="rotate_token",
)
@requires("tokens:write")
@sensitive_variables("issued")
def rotate_token(
    request: ApiRequest, token_id: TokenId, payload: TokenRotateIn, response: HttpResponse
):
    """A new secret for the same token (id, name, permissions); the current secret keeps
    working for `overlap_hours`, or until the new secret is first used when
    `until_first_use` is set, whichever comes first. A token may rotate itself: the answer
    carries its new secret and the old one keeps working during the overlap, so no
    confirmation is needed. Legacy server tokens are never rotated (409
    `legacy_token_not_renewable`)."""
    target = _manageable_or_404(request, str(token_id))
    ensure_renewable(target)
    _check_may_renew(request, target)
    issued = token_rotate(
        token=target,
        actor=Actor.from_request(request, token=request.auth),
        overlap_hours=payload.overlap_hours,
        until_first_use=payload.until_first_use,
    )
    _no_store(response)
    # The only time this new secret is shown.
    return Status(200, IssuedTokenOut.of(issued))


@api.delete("/tokens/{id_or_prefix}", response={204: None, **ERRORS}, tags=["tokens"])
@requires("tokens:write")
def revoke_token(request: ApiRequest, id_or_prefix: Text):
    """Revoke a token by id or by a unique preview prefix."""
    target = _manageable_or_404(request, id_or_prefix)
    token_revoke(
        token=target,
        actor=Actor.from_request(request, token=request.auth),
        reason="revoked through the API",
    )
    return Status(204, None)


@api.get(
    "/tokens/{token_id}/usage",
    response={200: UsageOut, **ERRORS},
    tags=["tokens"],
    operation_id="token_usage",
)
@requires("tokens:read")
def token_usage(request: ApiRequest, token_id: TokenId):
    """Who uses a token the calling token may see (revoked ones too): its last 5 client
    addresses, calls per route, agents and projects over 30 days, which permissions were
    used, and a smaller set to narrow to once it has been used for 7 days."""
    target = get_object_or_404(authorization.manageable_tokens(request.auth), pk=token_id)
    return UsageOut.of(target, usage.usage_of(target))


# Leaked tokens ------------------------------------------------------------------------------

LEAK_REPORTS_PER_WINDOW = 30
LEAK_REPORT_WINDOW_SECONDS = 600


@api.post(
    "/token-leaks",
    auth=None,
    response={
        200: LeakReportOut,
        **{code: ErrorOut for code in (400, 413, 414, 422, 429, 503)},
    },
    tags=["tokens"],
)
@sensitive_variables("payload")
def report_leaked_tokens(request: HttpRequest, payload: LeakReportIn, response: HttpResponse):
    """For secret scanners: every valid token in the body is revoked and its owners are
    told. The answer is the same whatever existed: counts only."""
    # In Django's cache, which every app process shares (ops/rate_limit.py).
    limited = address_limit_reached(
        request,
        response,
        "token-leaks",
        limit=LEAK_REPORTS_PER_WINDOW,
        window=LEAK_REPORT_WINDOW_SECONDS,
        what="reports",
    )
    if limited is not None:
        return limited
    report = tokens_revoke_leaked(payload.tokens, actor=Actor.from_request(request))
    # Counts that do not depend on which tokens existed: never `report.revoked`.
    return {"received": len(payload.tokens), "well_formed": report.well_formed}
