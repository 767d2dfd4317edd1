"""Webhook endpoints of an organization, their deliveries, and the expiry notices already
emitted (so each is emitted once, whatever the number of workers)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgs.models import Organization

EVENT_TYPES = {
    "token.created": "A token was created",
    "token.rotated": "A token was rotated (old secret kept for an overlap)",
    "token.reset": "A token's secret was reset",
    "token.revoked": "A token was revoked",
    "token.deleted": "A token was deleted",
    "token.leaked": "A token was reported leaked and revoked",
    "token.expiring": "A token expires in 30, 7 or 1 days",
    "token.expired": "A token expired",
    "token.idle_revoked": "A token was revoked after being idle",
    "member.added": "A member was added",
    "member.removed": "A member was removed",
    "member.role_changed": "A member's role changed",
}
TEST_EVENT = "ping"


class EndpointQuerySet(models.QuerySet["Endpoint"]):
    def subscribed_to(self, organization_id: int, event_type: str) -> "EndpointQuerySet":
        """Active endpoints that want `event_type`: the filter on the JSON list runs in
        Python (a handful of endpoints per organization), so it works on every database."""
        candidates = self.filter(organization_id=organization_id, is_active=True)
        return self.filter(pk__in=[e.pk for e in candidates if event_type in e.events])


class Endpoint(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("Endpoint URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)
    # Fernet token of the signing secret (events/secrets.py): the server needs the raw key
    # to sign every delivery, so it cannot keep only a hash of it.
    secret_encrypted = models.TextField(editable=False)
    secret_preview = models.CharField(max_length=20, editable=False)
    is_active = models.BooleanField(default=True)
    # Set when a delivery ran out of retries; cleared by the next successful delivery.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the next attempt is due (pending or retrying); a claim moves it forward by a lease
    # so that one worker makes each attempt.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint.url} ({self.status})"

    @property
    def is_done(self) -> bool:
        return self.status in {self.Status.DELIVERED, self.Status.FAILED}


class ExpiryNotice(models.Model):
    """One `token.expiring` (days 30, 7, 1) or `token.expired` (days 0) per token and expiry
    date: the unique constraint is the "once", across concurrent workers."""

    token_id = models.BigIntegerField()
    expires_at = models.DateTimeField()
    days = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token_id", "expires_at", "days"], name="expiry_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"token {self.token_id}: {self.days} days"
