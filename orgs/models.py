from django.conf import settings
from django.db import models


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
        help_text="Longest lifetime allowed for CI and deployment tokens; empty for no limit.",
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
    def is_admin(self) -> bool:
        """Owners and super admins manage CI tokens, deployment tokens and the audit log."""
        return self.role in (self.Role.OWNER, self.Role.SUPER_ADMIN)


class ProjectQuerySet(models.QuerySet["Project"]):
    def for_user(self, user) -> "ProjectQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(organization__memberships__user=user)


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

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="project_slug_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"
