"""What a verified token is, for the request it authenticates: a small frozen value read by
one SQL statement (tokens/lookup.py), never a model instance on the hot path.

Authorization and the API answers read its fields. Code that needs a model (to save it, to
name it as an audit target's organization, to filter on it) asks for `user`, `organization`
or `project`: those are built once per request from the joined columns, without a query;
any other field of theirs loads on first access, as a deferred field does."""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from accounts.models import User
from orgs.models import Organization, Project
from tokens import permissions as perms
from tokens.models import Token

Kind = Token.Kind


@dataclass(frozen=True)
class Credential:
    id: int
    kind: str
    name: str
    description: str
    preview: str
    role: str
    permissions: tuple[str, ...]
    digest: str = field(repr=False)
    salt_fingerprint: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_by_id: int | None
    user_id: int | None
    user_email: str | None
    user_is_active: bool | None
    organization_id: int | None
    organization_slug: str | None
    organization_name: str | None
    organization_allow_personal_token_deploys: bool | None
    organization_max_token_lifetime_days: int | None
    project_id: int | None
    project_slug: str | None
    project_name: str | None
    project_deleted_at: datetime | None

    @property
    def pk(self) -> int:
        return self.id

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    @property
    def audit_label(self) -> str:
        return f"{self.name} ({self.preview})"

    @property
    def project_label(self) -> str | None:
        """ "org/project", as the API names a deployment token's project."""
        if self.project_id is None:
            return None
        return f"{self.organization_slug}/{self.project_slug}"

    @property
    def permission_list(self) -> list[str]:
        return perms.ordered(self.permissions)

    def allows(self, permission: str) -> bool:
        return perms.allows(self.permissions, permission)

    # Models, for the code that needs them (built from the joined columns, no query). ------

    @cached_property
    def user(self) -> User | None:
        if self.user_id is None:
            return None
        return _partial(User, id=self.user_id, email=self.user_email, is_active=self.user_is_active)

    @cached_property
    def organization(self) -> Organization | None:
        if self.organization_id is None:
            return None
        return _partial(
            Organization,
            id=self.organization_id,
            slug=self.organization_slug,
            name=self.organization_name,
            allow_personal_token_deploys=self.organization_allow_personal_token_deploys,
            max_token_lifetime_days=self.organization_max_token_lifetime_days,
        )

    @cached_property
    def project(self) -> Project | None:
        if self.project_id is None:
            return None
        project = _partial(
            Project,
            id=self.project_id,
            slug=self.project_slug,
            name=self.project_name,
            organization_id=self.organization_id,
            deleted_at=self.project_deleted_at,
        )
        # A project's organization is the token's (check constraint).
        project.organization = self.organization
        return project

    def fetch_token(self) -> Token:
        """The token's row as a model, for the rare caller that writes or audits it."""
        return Token.objects.select_related("user", "organization", "project").get(pk=self.id)


def _partial(model, **values):
    """A model instance as the ORM loads one with .only(): the given fields set, the others
    deferred (loaded on first access)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])
