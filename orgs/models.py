from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def for_user(self, user) -> "OrganizationQuerySet":
        """Organizations `user` is a member of: the only ones a user may see."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Organization(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    allow_personal_token_deploys = models.BooleanField(
        default=False,
        help_text="Deployments may authenticate with members' personal tokens (legacy).",
    )
    max_token_lifetime_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Longest lifetime allowed for CI and deployment tokens (new ones and resets) "
        "and for personal tokens used on this organization; empty for no limit.",
    )
    require_token_expiry = models.BooleanField(
        default=False,
        help_text="New CI and deployment tokens must expire; personal tokens without an "
        "expiry are refused on this organization.",
    )
    idle_token_revoke_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(30), MaxValueValidator(365)],
        help_text="Revoke tokens unused for this many days (30-365), after an e-mail 7 days "
        "before; empty: never.",
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Members without two-factor sign-in see only a page asking them to enrol.",
    )
    require_sso = models.BooleanField(
        default=False,
        help_text="Members must sign in with single sign-on to open the organization's pages.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        SUPER_ADMIN = "super_admin", "Super admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def audit_label(self) -> str:
        return f"{self.user.email} ({self.role})"


class ProjectQuerySet(models.QuerySet["Project"]):
    def for_user(self, user) -> "ProjectQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(organization__memberships__user=user)


class LiveProjectManager(models.Manager.from_queryset(ProjectQuerySet)):
    """Deleted projects stay in the table (their revoked tokens and deployments point at
    them) but are gone from every list and lookup."""

    def get_queryset(self) -> ProjectQuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Project(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    slug = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    maintainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="maintained_projects"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveProjectManager()
    all_objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"],
                condition=models.Q(deleted_at__isnull=True),
                name="project_slug_per_org",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"

    @property
    def audit_label(self) -> str:
        return str(self)


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def matching(
        self,
        *,
        actor: str = "",
        action: str = "",
        token: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> "AuditEventQuerySet":
        """The audit page's and API's filters; empty ones are ignored."""
        events = self
        if actor:
            events = events.filter(actor_label__icontains=actor)
        if action:
            events = events.filter(action__in=action_names(action))
        if token:
            events = events.filter(target_type="token", target_label__icontains=token)
        if since:
            events = events.filter(created_at__gte=since)
        if until:
            events = events.filter(created_at__lt=until)
        return events

    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


# Action names stored before the vocabulary settled on "reset" and "revoke". No migration
# rewrites the append-only log: these read, and are filtered, as their current names.
FORMER_ACTION_NAMES = {"token.regenerate": "token.reset", "token.delete": "token.revoke"}


def current_action(action: str) -> str:
    return FORMER_ACTION_NAMES.get(action, action)


def action_names(action: str) -> list[str]:
    """Every stored name of `action` (given by its current or a former name)."""
    current = current_action(action)
    return [current, *(old for old, new in FORMER_ACTION_NAMES.items() if new == current)]


class AuditEvent(models.Model):
    """Append-only record of who (a user or a token) did what to which object, and from where.

    Targets and actors are stored by type, id and label rather than foreign keys, so the
    trail reads the same after users, tokens or projects are gone, and any app can write
    to it without this one knowing about theirs."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=50)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The project the event concerns (the project itself, or one of its deployment tokens),
    # so a token scoped to one project can be shown that project's events and no others.
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    target_type = models.CharField(max_length=30, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_time_idx"),
            # The audit page's keyset pages (newest id first, `id < before`) of one
            # organization: without it a small organization's page scans the whole log.
            models.Index(fields=["organization", "-id"], name="audit_org_id_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @property
    def current_action(self) -> str:
        """The action's name today, also for events stored under a former name."""
        return current_action(self.action)


class Deployment(models.Model):
    """A record that a project was deployed, and with which credential.

    The credential is kept as id, kind and preview (not a foreign key) so this app does not
    depend on the tokens app, and the record reads the same after the token is gone."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="deployments")
    ref = models.CharField(max_length=200)
    environment = models.CharField(max_length=50, default="production")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_id = models.BigIntegerField(null=True, blank=True)
    token_kind = models.CharField(max_length=3, blank=True)
    token_preview = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="deployment_project_time_idx"),
            models.Index(fields=["token_id", "-created_at"], name="deployment_token_time_idx"),
            # Deploy auth: a project's deployments with legacy (or CI) credentials lately,
            # counted per credential from the index alone (PostgreSQL).
            models.Index(
                fields=["project", "token_kind", "-created_at"],
                include=["token_id"],
                name="deployment_kind_time_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}@{self.ref} → {self.environment}"

    @property
    def audit_label(self) -> str:
        return str(self)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def visible_to(self, user) -> "InvitationQuerySet":
        """Invitations of the organizations `user` administers (owners and super admins):
        another organization's invitation ids do not exist for anyone else."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            organization__memberships__user=user,
            organization__memberships__role__in=[
                Membership.Role.OWNER,
                Membership.Role.SUPER_ADMIN,
            ],
        )

    def open(self) -> "InvitationQuerySet":
        """Neither accepted nor revoked; expired ones included (the list offers to resend)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """An e-mailed, single-use link that makes its holder a member with `role`.

    Only the SHA-256 digest of the link's secret is stored (like tokens, never the
    plaintext); the secret is 32 random bytes, so a keyed hash would add nothing."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=20, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    projects = models.ManyToManyField(
        Project,
        blank=True,
        related_name="+",
        help_text="Projects the invitee will maintain (members only).",
    )
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when "Resend" replaced this link with a new one, so the old link can say so.
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per address and organization; a resend revokes the old
            # one in the same transaction as it creates the new one.
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} ({self.role})"

    @property
    def audit_label(self) -> str:
        return f"{self.email} ({self.role})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
