"""Who is acting, and the one function that appends to the audit log."""

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models
from django.http import HttpRequest

from lib.ui import PAGE_SIZE
from ops.client_address import client_ip  # also imported from here by tokens.api
from orgs.models import AuditEvent, Organization, Project

USER_AGENT_MAX = 300

ACTIONS = {
    "token.create": "Token created",
    "token.reset": "Token reset",
    "token.rotate": "Token rotated",
    "token.rotation_first_use": "Rotated token's new secret first used",
    "token.overlap_end": "Rotation overlap ended",
    "token.narrow": "Unused permissions taken away",
    "token.ip_denied": "Token refused: address not allowed",
    "token.revoke": "Token revoked",
    "token.revoke_all": "All personal tokens revoked",
    "token.leak_report": "Leaked token revoked",
    "legacy.use": "Legacy credential used",
    "member.add": "Member added",
    "invitation.create": "Invitation sent",
    "invitation.resend": "Invitation sent again",
    "invitation.revoke": "Invitation revoked",
    "invitation.accept": "Invitation accepted",
    "member.role_change": "Role changed",
    "member.remove": "Member removed",
    "project.create": "Project created",
    "project.update": "Project changed",
    "project.delete": "Project deleted",
    "org.token_policy": "Token policy changed",
    "org.deploy_policy": "Deploy-auth policy changed",
    "org.two_factor_policy": "Two-factor requirement changed",
    "org.sso_policy": "Single sign-on requirement changed",
    "webhook.create": "Webhook endpoint added",
    "webhook.update": "Webhook endpoint changed",
    "webhook.delete": "Webhook endpoint deleted",
    "publisher.create": "Trusted publisher added",
    "publisher.update": "Trusted publisher changed",
    "publisher.delete": "Trusted publisher removed",
    "oidc.exchange": "Token issued to a trusted publisher",
}


@dataclass(frozen=True)
class Actor:
    """A person signed in to the dashboard, a token calling the API, or the system itself.

    `token` is any object with `pk`, `preview` and `user` (a tokens.Token), kept untyped
    so this app does not import the tokens app."""

    user: Any = None
    token: Any = None
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, *, token: Any = None) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        if token is not None:
            user = token.user
        return cls(
            user=user,
            token=token,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX],
        )

    @property
    def label(self) -> str:
        if self.token is not None:
            return f"token {self.token.preview}"
        if self.user is not None:
            return self.user.email
        return "system"


def record(
    action: str,
    *,
    actor: Actor,
    organization: Organization | None = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if organization is None and target is not None:
        organization = getattr(target, "organization", None)
    return AuditEvent.objects.create(
        action=action,
        organization=organization,
        project_id=_project_id_of(target),
        actor_user=actor.user,
        actor_token_id=actor.token.pk if actor.token is not None else None,
        actor_label=actor.label,
        target_type=target._meta.model_name if target is not None else "",
        target_id=target.pk if target is not None else None,
        target_label=getattr(target, "audit_label", str(target)) if target is not None else "",
        ip=actor.ip,
        user_agent=actor.user_agent,
        data=data or {},
    )


def _project_id_of(target: models.Model | None) -> int | None:
    """The project an event about `target` concerns: the project itself, or the project a
    token or deployment belongs to (duck-typed: this app does not know tokens)."""
    if isinstance(target, Project):
        return target.pk
    return getattr(target, "project_id", None)


def page_of(
    events, *, before: int | None, size: int = PAGE_SIZE
) -> tuple[list[AuditEvent], int | None]:
    """Keyset pagination, newest first: the page older than event `before`, and the cursor
    of the next one (None on the last page). Cost does not grow with the depth."""
    if before is not None:
        events = events.filter(id__lt=before)
    rows = list(events.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more else None)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadCursor(ValueError):
    pass


def cursor_of(event: AuditEvent) -> str:
    """An opaque, stable position in the log: the event's time (to the microsecond) and id."""
    micros = (event.created_at - EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{event.id}".encode()).decode().rstrip("=")


def _position(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros, event_id = (int(part) for part in raw.split("."))
        moment = EPOCH + timedelta(microseconds=micros)
    except (ValueError, UnicodeDecodeError, OverflowError, OSError):
        raise BadCursor("This cursor is not one Tokendesk gave out.") from None
    if event_id < 1:
        raise BadCursor("This cursor is not one Tokendesk gave out.")
    return moment, event_id


def page_after(events, *, after: str, size: int = PAGE_SIZE) -> tuple[list[AuditEvent], str]:
    """Oldest first, the events after `after` (all of them for an empty cursor), and the
    cursor to pass next time (the same one when nothing is new): for a collector that polls.
    Ordered by (created_at, id), which is how the cursor is built, so no event is seen
    twice and none is skipped between polls."""
    if after:
        moment, event_id = _position(after)
        events = events.filter(
            models.Q(created_at__gt=moment) | models.Q(created_at=moment, id__gt=event_id)
        )
    rows = list(events.order_by("created_at", "id")[:size])
    return rows, (cursor_of(rows[-1]) if rows else after)
