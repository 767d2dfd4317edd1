import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    StrictBool,
    StringConstraints,
    model_validator,
)

from lib.ids import MAX_ID
from lib.limits import MAX_TOKEN_LIFETIME_DAYS
from orgs.lifecycle import IDLE_DAYS_MAX, IDLE_DAYS_MIN
from orgs.models import AuditEvent, Deployment, Project
from orgs.services import ENVIRONMENT_MAX_LENGTH, ENVIRONMENT_PATTERN, REF_MAX_LENGTH
from tokens import permissions as perms
from tokens.credential import Credential
from tokens.models import Token
from tokens.services import IssuedToken

API_KINDS = {
    Token.Kind.PERSONAL: "personal",
    Token.Kind.CI: "ci",
    Token.Kind.DEPLOYMENT: "deployment",
    Token.Kind.SERVER: "server",
}
KINDS_BY_NAME = {name: kind for kind, name in API_KINDS.items()}
KindName = Literal["personal", "ci", "deployment", "server"]
# Input text is compared with or stored in the database, and PostgreSQL refuses NUL.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[-A-Za-z0-9_]{1,50}$")]
TokenId = Annotated[int, Field(ge=1, le=MAX_ID)]

_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_8601_only(value):
    # pydantic would read a bare number ("0.5") as seconds since 1970.
    if isinstance(value, str) and not _ISO_DATE_TIME.match(value):
        raise ValueError("give an ISO 8601 date-time, e.g. 2025-01-31T00:00:00Z")
    return value


def _in_utc_range(value: datetime) -> datetime:
    # Naive times are UTC; an offset that moves the time past year 1 or 9999 in UTC is
    # refused here instead of overflowing in the database driver.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall between years 1 and 9999 in UTC") from None


DateTimeFilter = Annotated[
    datetime,
    BeforeValidator(_iso_8601_only),
    AfterValidator(_in_utc_range),
    Field(description="ISO 8601 date-time; without an offset, UTC."),
]


class ErrorOut(Schema):
    error: str
    detail: str


class TokenOut(Schema):
    id: int
    name: str
    description: str
    kind: KindName
    preview: str
    org: str | None
    project: str | None
    role: str | None
    permissions: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    allowed_ips: list[str] = Field(
        description="IPv4/IPv6 addresses and CIDR ranges the token may be used from; "
        "empty: anywhere."
    )
    previous_secret_valid_until: datetime | None = Field(
        description="While a rotation's overlap lasts: when the previous secret stops working."
    )

    @staticmethod
    def resolve_previous_secret_valid_until(token: Token | Credential) -> datetime | None:
        if isinstance(token, Credential):
            return token.previous_valid_until if token.previous_digest else None
        return token.overlap_until()

    @staticmethod
    def resolve_allowed_ips(token: Token | Credential) -> list[str]:
        return list(token.allowed_ips or ())

    @staticmethod
    def resolve_kind(token: Token) -> str:
        return API_KINDS[token.kind]

    @staticmethod
    def resolve_org(token: Token | Credential) -> str | None:
        if isinstance(token, Credential):
            return token.organization_slug
        return token.organization.slug if token.organization_id else None

    @staticmethod
    def resolve_project(token: Token | Credential) -> str | None:
        if isinstance(token, Credential):
            return token.project_label
        return str(token.project) if token.project_id else None

    @staticmethod
    def resolve_role(token: Token) -> str | None:
        return token.role or None

    @staticmethod
    def resolve_permissions(token: Token) -> list[str]:
        return token.permission_list


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The plaintext token. Shown once: store it now.")

    @staticmethod
    def resolve_token(issued: IssuedToken) -> str:
        return issued.plaintext

    @classmethod
    def of(cls, issued: IssuedToken) -> "IssuedTokenOut":
        return cls.from_orm(_Issued(issued))


class _Issued:
    """The issued token's attributes plus its plaintext, for the one response that shows it."""

    def __init__(self, issued: IssuedToken):
        self.plaintext = issued.plaintext
        self._token = issued.token

    def __getattr__(self, name: str):
        return getattr(self._token, name)


class UserOut(Schema):
    email: str


class WhoAmIOut(Schema):
    token: TokenOut
    user: UserOut | None


# Pairs of fields of which a request gives (non-null) one at most; the schema says so too.
EXCLUSIVE_FIELDS = (("org", "project"), ("permissions", "role"))


def _not_both(pair: tuple[str, str]) -> dict:
    not_null = {"not": {"type": "null"}}
    return {"not": {"required": list(pair), "properties": dict.fromkeys(pair, not_null)}}


class TokenCreateIn(Schema):
    model_config = {"json_schema_extra": {"allOf": [_not_both(p) for p in EXCLUSIVE_FIELDS]}}

    name: Text = Field(max_length=500)
    description: Text = Field("", max_length=1000)
    org: Slug | None = Field(None, description="Organization slug: a CI token. Not with `project`.")
    project: Text | None = Field(
        None, max_length=101, description="ORG/PROJECT: a project deployment token. Not with `org`."
    )
    permissions: list[Text] | None = Field(None, max_length=50, description="Not with `role`.")
    role: Text | None = Field(None, max_length=20, description="Not with `permissions`.")
    expires_in_days: int | None = Field(None, ge=1, le=MAX_TOKEN_LIFETIME_DAYS)
    allowed_ips: list[Annotated[Text, StringConstraints(max_length=60)]] | None = Field(
        None,
        max_length=20,
        description="Up to 20 IPv4/IPv6 addresses or CIDR ranges the token may be used "
        "from (omitted or empty: anywhere). A token restricted itself can only create "
        "tokens restricted within its own ranges.",
    )

    @model_validator(mode="after")
    def _one_of_each_pair(self) -> "TokenCreateIn":
        for first, second in EXCLUSIVE_FIELDS:
            if getattr(self, first) is not None and getattr(self, second) is not None:
                raise ValueError(f"give either {first} or {second}, not both")
        return self


class TokenRotateIn(Schema):
    overlap_hours: Literal[1, 24, 168] = Field(
        description="How long the current secret keeps working: 1 hour, 24 hours or 7 days."
    )
    until_first_use: bool = Field(
        False,
        description="End the overlap sooner, at the new secret's first request.",
    )


_MAX_LIFETIME = Field(
    description="Longest lifetime, in days, of new CI and deployment tokens (and of their "
    "resets and rotations), and of personal tokens used on this organization; null: no limit.",
    ge=1,
    le=MAX_TOKEN_LIFETIME_DAYS,
)
_IDLE_DAYS = Field(
    description=f"Revoke tokens unused for this many days ({IDLE_DAYS_MIN}-{IDLE_DAYS_MAX}), "
    "after an e-mail 7 days before; null: never.",
    ge=IDLE_DAYS_MIN,
    le=IDLE_DAYS_MAX,
)
_REQUIRE_EXPIRY = Field(
    description="New CI and deployment tokens must expire; personal tokens without an expiry "
    "are refused on this organization (403 `token_lifetime_exceeds_policy`)."
)


class LifecyclePolicyIn(Schema):
    """The whole policy (PUT)."""

    require_expiry: StrictBool = _REQUIRE_EXPIRY
    max_lifetime_days: int | None = _MAX_LIFETIME
    idle_revoke_days: int | None = _IDLE_DAYS


class LifecyclePolicyPatch(Schema):
    """Only the fields given change (PATCH); null turns a limit off."""

    # null is refused (StrictBool); only leaving it out keeps the current value.
    require_expiry: StrictBool = Field(None, description=_REQUIRE_EXPIRY.description)
    max_lifetime_days: int | None = Field(
        None, ge=1, le=MAX_TOKEN_LIFETIME_DAYS, description=_MAX_LIFETIME.description
    )
    idle_revoke_days: int | None = Field(
        None, ge=IDLE_DAYS_MIN, le=IDLE_DAYS_MAX, description=_IDLE_DAYS.description
    )


class LifecyclePolicyOut(Schema):
    require_expiry: bool
    max_lifetime_days: int | None
    idle_revoke_days: int | None


class AffectedTokenOut(Schema):
    id: int
    kind: KindName
    name: str
    preview: str
    owner: str | None = Field(description="The owner's e-mail, for a personal token.")
    problem: str
    consequence: str


class LifecyclePolicySavedOut(LifecyclePolicyOut):
    affected_count: int = Field(description="Existing tokens this policy catches.")
    affected: list[AffectedTokenOut] = Field(description="The first 100 of them.")


class OrganizationOut(Schema):
    slug: str
    name: str


class ProjectOut(Schema):
    slug: str
    name: str
    org: str
    full_name: str = Field(description="ORG/PROJECT, as the CLI takes it.")

    @staticmethod
    def resolve_org(project: Project) -> str:
        return project.organization.slug

    @staticmethod
    def resolve_full_name(project: Project) -> str:
        return str(project)


class DeploymentIn(Schema):
    ref: Text = Field(
        min_length=1, max_length=REF_MAX_LENGTH, description="The commit, tag or branch deployed."
    )
    environment: str = Field(
        "production", max_length=ENVIRONMENT_MAX_LENGTH, pattern=ENVIRONMENT_PATTERN
    )


class DeploymentOut(Schema):
    id: int
    project: str
    ref: str
    environment: str
    created_at: datetime
    created_by: str | None = Field(description="E-mail of the user behind the credential.")
    token: str | None = Field(description="Preview of the token that deployed.")
    token_kind: KindName | None

    @staticmethod
    def resolve_project(deployment: Deployment) -> str:
        return str(deployment.project)

    @staticmethod
    def resolve_created_by(deployment: Deployment) -> str | None:
        return deployment.created_by.email if deployment.created_by_id else None

    @staticmethod
    def resolve_token(deployment: Deployment) -> str | None:
        return deployment.token_preview or None

    @staticmethod
    def resolve_token_kind(deployment: Deployment) -> str | None:
        return API_KINDS.get(deployment.token_kind)


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    action: str
    actor: str = Field(description="E-mail of the person, or `token <preview>`.")
    target_type: str | None
    target: str | None
    ip: str | None
    user_agent: str
    data: dict

    @staticmethod
    def resolve_action(event: AuditEvent) -> str:
        return event.current_action

    @staticmethod
    def resolve_actor(event: AuditEvent) -> str:
        return event.actor_label

    @staticmethod
    def resolve_target_type(event: AuditEvent) -> str | None:
        return event.target_type or None

    @staticmethod
    def resolve_target(event: AuditEvent) -> str | None:
        return event.target_label or None


class AuditPageOut(Schema):
    items: list[AuditEventOut]
    next_before: int | None = Field(description="Pass as `before` for the next, older page.")
    next_after: str | None = Field(
        description="Pass as `after` to poll for newer events, oldest first (docs/audit-export.md)."
    )


class AuditFilters(Schema):
    actor: Text = Field("", max_length=200)
    action: Text = Field("", max_length=50)
    token: Text = Field("", max_length=200)
    since: DateTimeFilter | None = None
    until: DateTimeFilter | None = None
    before: int | None = Field(None, ge=1, le=MAX_ID)
    after: str | None = Field(
        None,
        max_length=100,
        description="A `next_after` cursor: newer events, oldest first (empty: from the start).",
    )
    limit: int = Field(50, ge=1, le=100)

    @model_validator(mode="after")
    def _one_direction(self) -> "AuditFilters":
        if self.before is not None and self.after is not None:
            raise ValueError("Pass either before or after, not both.")
        return self


MAX_LEAK_REPORT = 1000


class LeakReportIn(Schema):
    tokens: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        max_length=MAX_LEAK_REPORT, description="Up to 1,000 strings found exposed."
    )


class LeakReportOut(Schema):
    received: int = Field(description="Strings received.")
    well_formed: int = Field(description="Of those, how many had the shape of a token.")


class SeenOut(Schema):
    calls: int
    first_seen: datetime
    last_seen: datetime


class AddressOut(SeenOut):
    address: str = Field(description="The client's address; empty when it had none.")


class AgentOut(SeenOut):
    agent: str = Field(description="`tokendesk-cli/0.2`, `curl`, `python-requests`, `browser`…")


class UsedProjectOut(SeenOut):
    project: str = Field(description="`org/project`")


class RouteOut(Schema):
    method: str
    route: str = Field(description="The route template, e.g. `/api/v1/orgs/{org}/projects`.")
    calls: int
    ok: int = Field(description="Answered 2xx.")
    failed: int = Field(description="Answered 4xx or 5xx.")


class PermissionUseOut(Schema):
    permission: str
    granted: bool = Field(description="The token holds it (directly or implied by a write).")
    used: bool = Field(description="A call passed its check.")
    attempted: bool = Field(description="A call was refused for lacking it (403).")


class UsageOut(Schema):
    token: int = Field(description="The token's id.")
    since: date = Field(description="The oldest day kept (TOKENDESK_USAGE_RETENTION_DAYS).")
    first_day: date | None = Field(description="The first day with a call, within what is kept.")
    window_days: int = Field(description="Routes, agents, projects and totals cover these days.")
    calls: int
    ok: int
    failed: int
    addresses: list[AddressOut] = Field(description="The last 5 client addresses.")
    routes: list[RouteOut]
    agents: list[AgentOut]
    projects: list[UsedProjectOut]
    permissions: list[PermissionUseOut]
    suggested_permissions: list[str] | None = Field(
        description="After 7 days of use, the smaller set of permissions the calls needed, "
        "when some were never used; null otherwise."
    )

    @staticmethod
    def of(token: Token, usage) -> dict:
        def seen(items, name):
            return [
                {
                    name: s.name,
                    "calls": s.calls,
                    "first_seen": s.first_seen,
                    "last_seen": s.last_seen,
                }
                for s in items
            ]

        return {
            "token": token.pk,
            "since": usage.since,
            "first_day": usage.first_day,
            "window_days": usage.window_days,
            "calls": usage.calls,
            "ok": usage.ok,
            "failed": usage.failed,
            "addresses": seen(usage.addresses, "address"),
            "routes": [
                {
                    "method": r.method,
                    "route": r.route,
                    "calls": r.calls,
                    "ok": r.ok,
                    "failed": r.failed,
                }
                for r in usage.routes
            ],
            "agents": seen(usage.agents, "agent"),
            "projects": seen(usage.projects, "project"),
            "permissions": [
                {
                    "permission": p.name,
                    "granted": p.granted,
                    "used": p.used,
                    "attempted": p.attempted,
                }
                for p in usage.permissions
            ],
            "suggested_permissions": (
                None if usage.suggestion is None else perms.ordered(usage.suggestion)
            ),
        }
