"""The only code that writes endpoints and deliveries.

Events come from the audit log (events/receivers.py turns each recorded audit event into
deliveries in the same transaction) and from the scheduler (token.expiring, token.expired).
A delivery is attempted by the job queue after the transaction commits, and retried by the
scheduler with exponential backoff until WEBHOOK_RETRY_HOURS have passed."""

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.tasks import send_email
from events import secrets, signing, ssrf
from events.http import Outcome, post
from events.models import EVENT_TYPES, TEST_EVENT, Delivery, Endpoint
from lib.errors import RuleError
from orgs import audit
from orgs.access import ADMIN_ROLES
from orgs.audit import Actor
from orgs.models import AuditEvent, Membership, Organization

logger = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=4)
DUE_BATCH = 100
# The API's names of token kinds (tokens.api.schemas.API_KINDS).
KINDS = {"pat": "personal", "ci": "ci", "dep": "deployment", "srv": "server"}

# Audit actions, old and new names, and the webhook event each one is.
ACTION_EVENTS = {
    "token.create": "token.created",
    "token.regenerate": "token.reset",  # stored before the rename
    "token.reset": "token.reset",
    "token.rotate": "token.rotated",
    "token.revoke": "token.revoked",  # or token.deleted, see webhook_type()
    "token.delete": "token.deleted",  # stored before deletes became revokes with a reason
    "token.leak_report": "token.leaked",
    "token.idle_revoke": "token.idle_revoked",
    "member.add": "member.added",
    "member.remove": "member.removed",
    "member.role_change": "member.role_changed",
}


# A revocation's recorded reason can make it a more specific event.
REVOKE_REASONS = {"deleted": "token.deleted", "idle": "token.idle_revoked"}


def webhook_type(action: str, data: dict[str, Any]) -> str | None:
    if action == "token.revoke" and (reason := (data or {}).get("reason")) in REVOKE_REASONS:
        return REVOKE_REASONS[reason]
    return ACTION_EVENTS.get(action)


# Endpoints ---------------------------------------------------------------------------------


def _checked_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - EVENT_TYPES.keys())
    if unknown:
        raise RuleError(f"Unknown events: {', '.join(unknown)}.", field="events")
    if not events:
        raise RuleError("Choose at least one event.", field="events")
    return [name for name in EVENT_TYPES if name in events]


def _checked_url(url: str) -> str:
    try:
        ssrf.check(url)
    except ssrf.UnsafeTarget as error:
        raise RuleError(str(error), field="url") from None
    return url


def endpoint_create(
    *, organization: Organization, url: str, events: list[str], description: str, actor: Actor
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret, which the caller shows once."""
    secret = secrets.generate()
    endpoint = Endpoint(
        organization=organization,
        url=_checked_url(url),
        events=_checked_events(events),
        description=description,
        secret_encrypted=secrets.encrypt(secret),
        secret_preview=secrets.preview(secret),
        created_by=actor.user,
    )
    with transaction.atomic():
        endpoint.save()
        audit.record(
            "webhook.create", actor=actor, organization=organization,
            data={"url": endpoint.url, "events": endpoint.events},
        )  # fmt: skip
    return endpoint, secret


def endpoint_update(
    *, endpoint: Endpoint, url: str, events: list[str], description: str, is_active: bool,
    actor: Actor,
) -> Endpoint:  # fmt: skip
    endpoint.url = _checked_url(url)
    endpoint.events = _checked_events(events)
    endpoint.description = description
    endpoint.is_active = is_active
    if is_active:
        endpoint.failing_since = None
    with transaction.atomic():
        endpoint.save()
        audit.record(
            "webhook.update", actor=actor, organization=endpoint.organization,
            data={"url": endpoint.url, "events": endpoint.events, "active": is_active},
        )  # fmt: skip
    return endpoint


def endpoint_delete(*, endpoint: Endpoint, actor: Actor) -> None:
    with transaction.atomic():
        audit.record(
            "webhook.delete", actor=actor, organization=endpoint.organization,
            data={"url": endpoint.url},
        )  # fmt: skip
        endpoint.delete()


# Events ------------------------------------------------------------------------------------


def token_payload(token: Any) -> dict[str, Any]:
    """What a receiver learns about a token: never its secret or digest."""
    return {
        "id": token.pk,
        "name": token.name,
        "kind": KINDS.get(token.kind, token.kind),
        "preview": token.preview,
        "owner": token.user.email if token.user_id else None,
        "expires_at": _iso(token.expires_at),
        "project": str(token.project) if token.project_id else None,
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(
    event_type: str, organization: Organization, *, event_id: uuid.UUID, at: datetime, **data
) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": _iso(at),
        "organization": {"slug": organization.slug, "name": organization.name},
        **data,
    }


def emit(
    event_type: str, organization: Organization, *, at: datetime | None = None, **data
) -> list[Delivery]:
    """Queue one event for every active endpoint of `organization` that wants it. Call inside
    the transaction that made the change: the deliveries are written with it, and attempted
    once it commits (the scheduler picks up any whose job was lost)."""
    endpoints = list(Endpoint.objects.subscribed_to(organization.pk, event_type))
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    payload = envelope(event_type, organization, event_id=event_id, at=at or timezone.now(), **data)
    deliveries = [
        Delivery.objects.create(
            endpoint=endpoint, event_id=event_id, event_type=event_type, payload=payload
        )
        for endpoint in endpoints
    ]
    _attempt_after_commit(deliveries)
    return deliveries


def _attempt_after_commit(deliveries: list[Delivery]) -> None:
    from events.tasks import deliver_webhook

    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: deliver_webhook.enqueue(pk))


def emit_audit_event(event: AuditEvent, target: Any = None) -> list[Delivery]:
    """The audit log's hook (events/receivers.py): the webhook event an audit event is."""
    if event.organization_id is None:
        return []
    event_type = webhook_type(event.action, event.data)
    if event_type is None or not Endpoint.objects.subscribed_to(event.organization_id, event_type):
        return []
    data: dict[str, Any] = {"actor": event.actor_label}
    if event.target_type == "token":
        token = target if target is not None else _token(event.target_id)
        data["token"] = token_payload(token) if token is not None else None
        if reason := (event.data or {}).get("reason"):
            data["reason"] = reason
    elif event.target_type == "membership":
        data["member"] = {
            "email": event.data.get("email"),
            "role": event.data.get("to", event.data.get("role")),
            **({"previous_role": event.data["from"]} if "from" in event.data else {}),
        }
    return emit(event_type, event.organization, at=event.created_at, **data)


def _token(token_id: int | None) -> Any:
    from tokens.models import Token

    return Token.objects.select_related("user", "project__organization").filter(pk=token_id).first()


def send_test_event(*, endpoint: Endpoint) -> Delivery:
    event_id = uuid.uuid4()
    payload = envelope(
        TEST_EVENT, endpoint.organization, event_id=event_id, at=timezone.now(),
        message="A test event from Tokendesk.",
    )  # fmt: skip
    with transaction.atomic():
        delivery = Delivery.objects.create(
            endpoint=endpoint, event_id=event_id, event_type=TEST_EVENT, payload=payload
        )
        _attempt_after_commit([delivery])
    return delivery


def redeliver(*, delivery: Delivery) -> Delivery:
    """A new delivery of the same event (same id, so receivers can tell it is a repeat)."""
    with transaction.atomic():
        again = Delivery.objects.create(
            endpoint=delivery.endpoint,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
        )
        _attempt_after_commit([again])
    return again


# Delivery ----------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min, … doubling up to 4 hours between attempts."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def _lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)


def attempt(delivery_id: int, *, now: datetime | None = None) -> bool:
    """Make the next attempt of a due delivery. Returns whether this call made it.

    The claim is one conditional UPDATE that moves next_attempt_at a lease ahead: of several
    workers, one makes the attempt; if it dies mid-way, the lease runs out and another does."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
        next_attempt_at__lte=now,
    ).update(next_attempt_at=now + _lease(), attempts=F("attempts") + 1)
    if not claimed:
        return False
    delivery = Delivery.objects.select_related("endpoint__organization").get(pk=delivery_id)
    outcome = _send(delivery)
    _record(delivery, outcome, now=now)
    return True


def _send(delivery: Delivery) -> Outcome:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    try:
        target = ssrf.check(delivery.endpoint.url)  # again: DNS may have changed
    except ssrf.UnsafeTarget as error:
        return Outcome(None, str(error)[:300], 0)
    timestamp = int(timezone.now().timestamp())
    secret = secrets.decrypt(delivery.endpoint.secret_encrypted)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tokendesk-Webhooks/1",
        "Tokendesk-Event": delivery.event_type,
        "Tokendesk-Event-Id": str(delivery.event_id),
        "Tokendesk-Delivery": str(delivery.pk),
        signing.HEADER: signing.sign(secret, body, timestamp),
    }
    return post(target, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)


def _record(delivery: Delivery, outcome: Outcome, *, now: datetime) -> None:
    delivery.response_code = outcome.status
    delivery.error = outcome.error
    delivery.duration_ms = outcome.duration_ms
    delivery.last_attempt_at = now
    endpoint = delivery.endpoint
    if outcome.ok:
        delivery.status, delivery.next_attempt_at = Delivery.Status.DELIVERED, None
        delivery.save()
        if endpoint.failing_since is not None:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    deadline = delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    if delivery.event_type != TEST_EVENT and now < deadline:
        delivery.status = Delivery.Status.RETRYING
        delivery.next_attempt_at = min(now + backoff(delivery.attempts), deadline)
        delivery.save()
        return
    delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
    with transaction.atomic():
        delivery.save()
        if delivery.event_type != TEST_EVENT:
            _mark_failing(endpoint, now=now)


def _mark_failing(endpoint: Endpoint, *, now: datetime) -> None:
    """The first delivery to run out of retries marks the endpoint failing and tells the
    organization's owners, once until it recovers."""
    marked = Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    if not marked:
        return
    organization = endpoint.organization
    owners = Membership.objects.filter(organization=organization, role__in=ADMIN_ROLES).values_list(
        "user__email", flat=True
    )
    page = settings.SITE_URL + reverse("events:webhooks", args=[organization.slug])
    send_email(
        list(owners),
        f"Tokendesk: webhook endpoint {endpoint.url} is failing",
        (
            f"Deliveries to the webhook endpoint {endpoint.url} of {organization.name} have "
            f"failed for {settings.WEBHOOK_RETRY_HOURS} hours, so Tokendesk gave up on at "
            "least one event. Check the endpoint, then redeliver the failed events:\n"
            f"{page}\n"
        ),
    )


def due_deliveries(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )


def retry_due(*, now: datetime | None = None) -> int:
    """The scheduler's part: attempt every due delivery (each claimed by one worker)."""
    return sum(attempt(pk, now=now) for pk in due_deliveries(now=now))
