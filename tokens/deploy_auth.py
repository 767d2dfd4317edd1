"""Where an organization stands in moving deployments off legacy credentials (legacy
server tokens and personal tokens) onto CI tokens, computed from live usage.

Every answer here is an aggregate or a lazy, ordered queryset: the page shows them one page
at a time, so an organization with thousands of legacy pipelines costs the same few queries."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from orgs.models import Deployment, Organization
from tokens.models import Token

USAGE_WINDOW = timedelta(days=30)
QUIET_PERIOD = timedelta(days=7)
LEGACY_KINDS = (Token.Kind.SERVER, Token.Kind.PERSONAL)


@dataclass(frozen=True)
class Usage:
    """Deployments of one project made with one legacy credential in the window."""

    token: Token
    project: str
    deployments: int
    last_deployed_at: datetime


@dataclass(frozen=True)
class Reach:
    """What refusing personal-token deployments stops at once. A pipeline is one personal
    token deploying one project in the window."""

    pipelines: int
    tokens: int
    people: int


@dataclass(frozen=True)
class DeployAuthStatus:
    has_ci_token: bool
    ci_deploy_succeeded: bool
    legacy_quiet: bool
    legacy_retired: bool

    @property
    def checklist(self) -> list[tuple[str, bool]]:
        days = QUIET_PERIOD.days
        return [
            ("Create a CI token", self.has_ci_token),
            ("One green deployment with a CI or deployment token", self.ci_deploy_succeeded),
            (f"No deployment with a legacy credential for {days} days", self.legacy_quiet),
            (
                "Legacy server tokens revoked and personal-token deploys turned off",
                self.legacy_retired,
            ),
        ]


def _deployments(organization: Organization) -> QuerySet[Deployment]:
    return Deployment.objects.filter(project__organization=organization)


def _legacy_deployments(
    organization: Organization, kinds: Iterable[str], *, since: datetime
) -> QuerySet[Deployment]:
    return _deployments(organization).filter(token_kind__in=kinds, created_at__gte=since)


def legacy_server_tokens(organization: Organization) -> QuerySet[Token]:
    """The organization's legacy server tokens still in force, by name."""
    return (
        Token.objects.filter(kind=Token.Kind.SERVER, organization=organization)
        .unrevoked()
        .select_related("user")
        .order_by("name", "pk")
    )


def legacy_usage(organization: Organization, kind: str, *, now: datetime | None = None):
    """One row per credential of `kind` and project it deployed in the window (`token_id`,
    `project__slug`, `count`, `last`), most recent first; `usages()` adds the tokens."""
    since = (now or timezone.now()) - USAGE_WINDOW
    return (
        _legacy_deployments(organization, [kind], since=since)
        .values("token_id", "project__slug")
        .annotate(count=Count("*"), last=Max("created_at"))
        .order_by("-last", "token_id", "project__slug")
    )


def usages(rows: Iterable[dict]) -> list[Usage]:
    """Rows of `legacy_usage()` with their tokens, in one query. A deleted token's rows go."""
    rows = list(rows)
    tokens = Token.objects.select_related("user", "revoked_by").in_bulk(
        {row["token_id"] for row in rows}
    )
    return [
        Usage(tokens[row["token_id"]], row["project__slug"], row["count"], row["last"])
        for row in rows
        if row["token_id"] in tokens
    ]


def personal_deploy_reach(organization: Organization, *, now: datetime | None = None) -> Reach:
    since = (now or timezone.now()) - USAGE_WINDOW
    deployed = _legacy_deployments(organization, [Token.Kind.PERSONAL], since=since)
    tokens = Token.objects.filter(
        kind=Token.Kind.PERSONAL, pk__in=deployed.values("token_id")
    ).aggregate(tokens=Count("pk"), people=Count("user", distinct=True))
    pipelines = deployed.values("token_id", "project_id").distinct().count()
    return Reach(pipelines=pipelines, **tokens)


def deploy_auth_status(
    organization: Organization, *, now: datetime | None = None
) -> DeployAuthStatus:
    quiet_since = (now or timezone.now()) - QUIET_PERIOD
    server_tokens = legacy_server_tokens(organization)
    legacy_recently = (
        _legacy_deployments(organization, LEGACY_KINDS, since=quiet_since).exists()
        or server_tokens.filter(last_used_at__gte=quiet_since).exists()
    )
    # Newest first, so the live-token index answers: as a bare EXISTS the planner may scan
    # the table for the first match, which is slow when the organization's tokens sit
    # together far from its start (50 ms at a million tokens).
    newest_ci_token = (
        Token.objects.filter(kind=Token.Kind.CI, organization=organization)
        .active()
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return DeployAuthStatus(
        has_ci_token=newest_ci_token is not None,
        ci_deploy_succeeded=_deployments(organization)
        .filter(Q(token_kind=Token.Kind.CI) | Q(token_kind=Token.Kind.DEPLOYMENT))
        .exists(),
        legacy_quiet=not legacy_recently,
        legacy_retired=not organization.allow_personal_token_deploys and not server_tokens.exists(),
    )
