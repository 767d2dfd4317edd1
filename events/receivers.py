"""Events listen to the audit log: every recorded audit event that is a webhook event becomes
deliveries in the same transaction (tokens and orgs never import this app)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from events import services
from orgs.models import AuditEvent


@receiver(post_save, sender=AuditEvent, dispatch_uid="events.audit_event_recorded")
def audit_event_recorded(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        services.emit_audit_event(instance)
