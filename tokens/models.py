from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from orgs.models import Organization, Project
from tokens import permissions as perms

# No call for this long (or never used since created that long ago): flagged idle in tables.
IDLE_AFTER = timedelta(days=30)

# Up to this lifetime a token is short-lived (a trusted-publishing exchange's lives 5 to 60
# minutes): never announced before it expires.
SHORT_LIVED = timedelta(hours=1)
LIVES_SHORT = Q(expires_at__lte=F("created_at") + SHORT_LIVED)


class TokenQuerySet(models.QuerySet["Token"]):
    def unrevoked(self) -> "TokenQuerySet":
        return self.filter(revoked_at__isnull=True)

    def revoked(self) -> "TokenQuerySet":
        return self.filter(revoked_at__isnull=False)

    def active(self) -> "TokenQuerySet":
        return self.unrevoked().filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )

    def expiring_within(self, period, *, now=None) -> "TokenQuerySet":
        now = now or timezone.now()
        return self.unrevoked().filter(expires_at__gt=now, expires_at__lte=now + period)

    def listed(self) -> "TokenQuerySet":
        """The unrevoked tokens a token table shows: all but short-lived ones that expired
        (one per pipeline run; the audit log keeps each, and the worker prunes them)."""
        # Cheap tests first: on SQLite the lifetime is a Python function per row, so only
        # expired deployment tokens (the only kind an exchange issues) are ever measured.
        expired_short_lived = (
            Q(kind=Token.Kind.DEPLOYMENT, expires_at__lte=timezone.now()) & LIVES_SHORT
        )
        return self.unrevoked().exclude(expired_short_lived)

    def made_to_last(self) -> "TokenQuerySet":
        """Tokens meant to last: what expiry notices and events are about. A token issued for
        minutes (a trusted-publishing exchange, one per pipeline run) is made to expire;
        announcing it would mail its owners on every run."""
        return self.exclude(LIVES_SHORT)  # tokens without an expiry included

    def deployment_created_by(self, user, organization, project=None) -> "TokenQuerySet":
        """Live deployment tokens `user` created in `organization` (or for `project`): what
        keeps working after they leave it."""
        tokens = self.active().filter(
            kind=Token.Kind.DEPLOYMENT, organization=organization, created_by=user
        )
        return tokens.filter(project=project) if project is not None else tokens

    def personal_for(self, user) -> "TokenQuerySet":
        """A user's own personal tokens: the only tokens the personal page may touch."""
        return self.filter(kind=Token.Kind.PERSONAL, user=user)


class Token(models.Model):
    """Every kind of credential in one table, so verification has one lookup path."""

    class Kind(models.TextChoices):
        PERSONAL = "pat", "Personal API token"
        CI = "ci", "CI token"
        DEPLOYMENT = "dep", "Deployment token"
        SERVER = "srv", "Legacy server token"

    kind = models.CharField(max_length=3, choices=Kind.choices)
    name = models.CharField(max_length=100)
    description = models.TextField(max_length=1000, blank=True)
    # Owner columns; which are set depends on the kind (see the check constraint). Each is
    # indexed by the Meta index that starts with it, not by a foreign key index of its own.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tokens",
        db_index=False,
        help_text="Owner of a personal token; the tied user of a legacy server token.",
    )
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tokens",
        db_index=False,
    )
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tokens",
        db_index=False,
    )
    role = models.CharField(max_length=20, blank=True)
    permissions = models.JSONField(default=list)
    digest = models.CharField(max_length=64, editable=False)  # unique: see Meta
    # Rotation with overlap: the secret before the last rotation keeps working until
    # `previous_valid_until`, or (with `previous_until_first_use`) until the new secret is
    # first used, whichever comes first. Unique and indexed like `digest` (see Meta), so
    # verification stays one indexed lookup (`digest IN (…) OR previous_digest IN (…)`).
    # NULL, not "", when there is none: the unique index holds only the set ones.
    previous_digest = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    previous_preview = models.CharField(max_length=40, blank=True, editable=False)
    previous_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    previous_until_first_use = models.BooleanField(default=False, editable=False)
    salt_fingerprint = models.CharField(max_length=16, blank=True, editable=False)
    preview = models.CharField(max_length=40, editable=False)
    # The person the token answers to: whoever created it, or, for a token minted by a
    # deployment token, the person that token answers to. Empty for what a CI token (the
    # organization's own credential) or the system created.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_token = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # token_created_by_token_idx
        help_text="The token that created this one through the API, if any.",
    )
    # Where the token may be used from: normalized IPv4/IPv6 networks ("203.0.113.0/24",
    # "2001:db8::/32", a single address as "/32" or "/128"); empty: anywhere.
    allowed_ips = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The expiry an "expires soon" notice was sent for: once per token per expiry date.
    expiry_notified_for = models.DateTimeField(null=True, blank=True, editable=False)
    # When the "revoked soon for being idle" e-mail went out (orgs.lifecycle): it stands for
    # the idle stretch that began before it; a later use or a new secret starts a new one.
    idle_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.CharField(max_length=200, blank=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every index costs each write: revoking a token writes its new row version into
        # every index whose condition that version meets. So no index is kept twice (a
        # foreign key is covered by the index that starts with it), none serves pattern
        # search on a digest (Django adds one for a unique CharField: unique constraints
        # instead), and mostly-empty columns are indexed only where set. The UPDATE of a
        # revoke-all of 90,000 tokens at a million took 3.3 s with 19 indexes, 1.3 s with 14.
        # The organization and project indexes also carry the expiry and creation time
        # (PostgreSQL), so a CI or deployment page counts its listed() tokens from the index
        # alone. The personal index does not: revoke-all writes it, and the extra columns
        # slowed that by a quarter.
        indexes = [
            models.Index(
                fields=["user", "kind", "revoked_at"],
                condition=Q(user__isnull=False),
                name="token_personal_idx",
            ),
            models.Index(
                fields=["organization", "kind", "revoked_at"],
                include=["expires_at", "created_at"],
                condition=Q(organization__isnull=False),
                name="token_org_idx",
            ),
            models.Index(
                fields=["project", "revoked_at"],
                include=["kind", "expires_at", "created_at"],
                condition=Q(project__isnull=False),
                name="token_project_idx",
            ),
            models.Index(
                fields=["created_by_token"],
                condition=Q(created_by_token__isnull=False),
                name="token_created_by_token_idx",
            ),
            # The token pages list live tokens newest first, 50 at a time: these give the
            # page in index order (no sort of every live token) and its count from the index
            # alone. make bench-scale shows each one in use at a million tokens.
            models.Index(
                fields=["user", "kind", "-created_at", "-id"],
                condition=Q(revoked_at__isnull=True),
                name="token_personal_live_idx",
            ),
            models.Index(
                fields=["organization", "kind", "-created_at", "-id"],
                condition=Q(revoked_at__isnull=True),
                name="token_org_live_idx",
            ),
            models.Index(
                fields=["project", "-created_at", "-id"],
                condition=Q(revoked_at__isnull=True),
                name="token_project_live_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="token_digest_unique"),
            models.UniqueConstraint(
                fields=["previous_digest"],
                condition=Q(previous_digest__isnull=False),
                name="token_previous_digest_unique",
            ),
            models.CheckConstraint(
                name="token_owner_matches_kind",
                condition=(
                    Q(
                        kind="pat",
                        user__isnull=False,
                        organization__isnull=True,
                        project__isnull=True,
                    )
                    | Q(
                        kind="ci",
                        user__isnull=True,
                        organization__isnull=False,
                        project__isnull=True,
                    )
                    | Q(kind="srv", organization__isnull=False, project__isnull=True)
                    | Q(
                        kind="dep",
                        user__isnull=True,
                        organization__isnull=False,
                        project__isnull=False,
                    )
                ),
            ),
            # Labels identify tokens in lists, logs and the audit trail, so live ones are
            # unique per owner; this also turns a double submit into a visible error.
            models.UniqueConstraint(
                "user",
                Lower("name"),
                condition=Q(kind="pat", revoked_at__isnull=True),
                name="unique_live_personal_token_name",
            ),
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                condition=Q(kind="ci", revoked_at__isnull=True),
                name="unique_live_ci_token_name",
            ),
        ]

    def __str__(self) -> str:
        return self.audit_label

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.preview})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired()

    @property
    def status(self) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"

    def overlap_until(self, now: datetime | None = None) -> datetime | None:
        """While a rotation's overlap lasts, when the previous secret stops working."""
        if self.previous_digest is None or self.previous_valid_until is None or self.is_revoked:
            return None
        if self.previous_valid_until <= (now or timezone.now()):
            return None
        return self.previous_valid_until

    @property
    def is_idle(self) -> bool:
        """Active, and no call for IDLE_AFTER (or none since it was created that long ago)."""
        if not self.is_active:
            return False
        return (self.last_used_at or self.created_at) <= timezone.now() - IDLE_AFTER

    @property
    def in_overlap(self) -> bool:
        return self.overlap_until() is not None

    def get_role_label(self) -> str:
        return perms.ROLE_LABELS.get(self.role, self.role or "—")

    @property
    def permission_list(self) -> list[str]:
        return perms.ordered(self.permissions)

    def allows(self, permission: str) -> bool:
        return perms.allows(self.permissions, permission)


# What one usage counter counts: calls that agree on all of these add up in one row (the
# unique key tokens.usage writes its INSERT … ON CONFLICT against).
USAGE_KEY_FIELDS = (
    "token",
    "day",
    "method",
    "route",
    "address",
    "agent",
    "permission",
    "granted",
    "status_class",
    "project",
)


class TokenUsageQuerySet(models.QuerySet["TokenUsage"]):
    def since(self, day) -> "TokenUsageQuerySet":
        return self.filter(day__gte=day)


class TokenUsage(models.Model):
    """Daily counters of a token's verified API calls: one row per token, day (UTC), route
    template, client address, agent family, permission, outcome and project, never a row per
    request. Written by tokens.usage from a per-process buffer, at most once a minute per
    token and process; kept TOKENDESK_USAGE_RETENTION_DAYS (purge_token_usage)."""

    token = models.ForeignKey(Token, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    method = models.CharField(max_length=7)
    # The URL pattern ("/api/v1/orgs/{org}/projects/{project}/deployments"), never the path.
    route = models.CharField(max_length=200)
    # The client's address as ops.client_address.client_ip finds it; "" when there was none.
    address = models.CharField(max_length=45, blank=True)
    # "tokendesk-cli/0.2", "curl", "python-requests", "browser", "other" (tokens.usage).
    agent = models.CharField(max_length=40)
    # The permission the endpoint required ("" for whoami); `granted` is False when the call
    # was refused for lacking it (403 insufficient_scope): attempted, not used.
    permission = models.CharField(max_length=40, blank=True)
    granted = models.BooleanField(default=True)
    status_class = models.PositiveSmallIntegerField(help_text="2 for 2xx, 4 for 4xx, …")
    # "org/project" when the call named a project (the API's own spelling), else "".
    project = models.CharField(max_length=101, blank=True)
    calls = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    objects = TokenUsageQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=USAGE_KEY_FIELDS, name="token_usage_counter_key")
        ]
        indexes = [models.Index(fields=["day"], name="token_usage_day_idx")]

    def __str__(self) -> str:
        return f"{self.token_id} {self.day} {self.method} {self.route}: {self.calls}"
