"""Trust policies (trusted publishers) and the record of each OIDC exchange."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgs.models import Project

PROVIDERS = {"github": "GitHub Actions", "gitlab": "GitLab CI"}


class TrustedPublisher(models.Model):
    """A project trusts ID tokens of `issuer` for `audience` whose claims equal every one of
    `conditions` (exact match, no wildcards), and trades each for a short-lived deployment
    token holding `permissions` for `lifetime_minutes`."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="trusted_publishers"
    )
    issuer = models.URLField(max_length=200)
    audience = models.CharField(max_length=200)
    conditions = models.JSONField(default=dict)
    permissions = models.JSONField(default=list)
    lifetime_minutes = models.PositiveSmallIntegerField(default=15)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.audit_label

    @property
    def provider(self) -> str:
        kind = settings.TRUSTED_PUBLISHER_ISSUERS.get(self.issuer)
        return PROVIDERS.get(kind, "Issuer no longer allowed")

    @property
    def organization(self):
        return self.project.organization

    @property
    def audit_label(self) -> str:
        subject = ", ".join(f"{claim}={value}" for claim, value in sorted(self.conditions.items()))
        return f"{self.issuer} ({subject})"[:200]


class OidcExchange(models.Model):
    """One accepted ID token: which policy matched, what it matched on, the token issued. The
    (issuer, jti) constraint refuses a replayed ID token; the raw ID token is never kept."""

    policy = models.ForeignKey(
        TrustedPublisher, null=True, on_delete=models.SET_NULL, related_name="exchanges"
    )
    token = models.OneToOneField(
        "tokens.Token", on_delete=models.CASCADE, related_name="oidc_exchange"
    )
    issuer = models.CharField(max_length=200)
    jti = models.CharField(max_length=200)
    subject = models.CharField(max_length=300, blank=True)
    claims = models.JSONField(default=dict)
    id_token_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "jti"], name="oidc_exchange_jti_once"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.jti}"
