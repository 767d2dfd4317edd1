"""Who is acting, and the one function that appends to the audit log."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from tokens.models import AuditEvent, Token

if TYPE_CHECKING:
    from accounts.models import User
    from orgs.models import Organization

USER_AGENT_MAX = 300


@dataclass(frozen=True)
class Actor:
    """A person signed in to the dashboard, a token calling the API, or the system itself."""

    user: "User | None" = None
    token: Token | None = None
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, *, token: Token | None = None) -> "Actor":
        user = request.user if request.user.is_authenticated else None
        if token is not None and token.kind == Token.Kind.PERSONAL:
            user = token.user
        return cls(
            user=user,
            token=token,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX],
        )

    @classmethod
    def system(cls) -> "Actor":
        return cls()

    @property
    def label(self) -> str:
        if self.token is not None:
            return f"token {self.token.preview}"
        if self.user is not None:
            return self.user.email
        return "system"


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: trusting X-Forwarded-For needs a known proxy in front, which is a
    # deployment decision (have the proxy set REMOTE_ADDR, e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    actor: Actor,
    organization: "Organization | None" = None,
    target: Token | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if organization is None and target is not None:
        organization = target.organization
    return AuditEvent.objects.create(
        action=action,
        organization=organization,
        actor_user=actor.user,
        actor_token=actor.token,
        actor_label=actor.label,
        target_token=target,
        target_label=f"{target.name} ({target.preview})" if target else "",
        ip=actor.ip,
        user_agent=actor.user_agent,
        data=data or {},
    )
