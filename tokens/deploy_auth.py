"""Where an organization stands in moving deployments off legacy credentials (legacy
server tokens and personal tokens) onto CI tokens, computed from live usage."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
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
class DeployAuthStatus:
    server_tokens: list[Token]
    server_usage: list[Usage]
    personal_usage: list[Usage]
    has_ci_token: bool
    ci_deploy_succeeded: bool
    legacy_quiet: bool
    legacy_retired: bool

    @property
    def personal_reach(self) -> tuple[int, int, int]:
        """What refusing personal-token deployments stops at once: (pipelines, tokens,
        people). A pipeline is one personal token deploying one project in the window."""
        tokens = {use.token.pk for use in self.personal_usage}
        people = {use.token.user_id for use in self.personal_usage}
        return len(self.personal_usage), len(tokens), len(people)

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


def deploy_auth_status(
    organization: Organization, *, now: datetime | None = None
) -> DeployAuthStatus:
    now = now or timezone.now()
    deployments = Deployment.objects.filter(project__organization=organization)
    rows = list(
        deployments.filter(token_kind__in=LEGACY_KINDS, created_at__gte=now - USAGE_WINDOW)
        .values("token_id", "token_kind", "project__slug")
        .annotate(count=Count("id"), last=Max("created_at"))
        .order_by("-last")
    )
    tokens = Token.objects.select_related("user", "revoked_by").in_bulk(
        {row["token_id"] for row in rows}
    )
    usage = [
        Usage(tokens[row["token_id"]], row["project__slug"], row["count"], row["last"])
        for row in rows
        if row["token_id"] in tokens
    ]
    server_tokens = list(
        Token.objects.filter(kind=Token.Kind.SERVER, organization=organization)
        .unrevoked()
        .select_related("user")
        .order_by("name")
    )
    quiet_since = now - QUIET_PERIOD
    legacy_recently = any(u.last_deployed_at >= quiet_since for u in usage) or any(
        t.last_used_at and t.last_used_at >= quiet_since for t in server_tokens
    )
    return DeployAuthStatus(
        server_tokens=server_tokens,
        server_usage=[u for u in usage if u.token.kind == Token.Kind.SERVER],
        personal_usage=[u for u in usage if u.token.kind == Token.Kind.PERSONAL],
        has_ci_token=Token.objects.filter(kind=Token.Kind.CI, organization=organization)
        .active()
        .exists(),
        ci_deploy_succeeded=deployments.filter(
            Q(token_kind=Token.Kind.CI) | Q(token_kind=Token.Kind.DEPLOYMENT)
        ).exists(),
        legacy_quiet=not legacy_recently,
        legacy_retired=not server_tokens and not organization.allow_personal_token_deploys,
    )
