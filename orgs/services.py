"""Writes to organizations, memberships and projects. One transaction each, audited."""

import re

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts import sso, two_factor
from accounts.models import User
from lib.errors import RuleError
from orgs import access, audit
from orgs.audit import Actor
from orgs.models import Deployment, Membership, Organization, Project
from orgs.signals import member_credentials, member_credentials_revoking, project_deleting

Role = Membership.Role
PROJECT_NAME_MAX_LENGTH = Project._meta.get_field("name").max_length
SLUG_MAX_LENGTH = Project._meta.get_field("slug").max_length
REF_MAX_LENGTH = Deployment._meta.get_field("ref").max_length
ENVIRONMENT_MAX_LENGTH = Deployment._meta.get_field("environment").max_length
# Letters, digits, dashes and underscores, starting and ending with a letter or digit.
ENVIRONMENT_PATTERN = r"^[A-Za-z0-9](?:[-A-Za-z0-9_]*[A-Za-z0-9])?$"


class NoSuchAccount(RuleError):
    """Adding someone who has no account yet: the page offers to invite them instead."""


def _lock_owners(organization: Organization) -> list[Membership]:
    # Locked so two owners demoting each other at once cannot leave the org with none.
    return list(
        Membership.objects.select_for_update().filter(organization=organization, role=Role.OWNER)
    )


def _refuse_losing_last_owner(membership: Membership) -> None:
    owners = _lock_owners(membership.organization)
    if membership.role == Role.OWNER and len(owners) <= 1:
        raise RuleError(
            f"{membership.organization.name} needs at least one owner. "
            "Make someone else an owner first."
        )


def membership_add(
    *, organization: Organization, email: str, role: str, by: Membership, actor: Actor
) -> Membership:
    if role not in Role.values:
        raise RuleError("Choose a role.", field="role")
    if not access.is_admin(by) or not access.can_assign_role(by, role):
        raise PermissionDenied("Only owners can add owners.")
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        raise NoSuchAccount(
            "No Tokendesk account uses that e-mail yet. Send them an invitation: they join "
            "when they accept it.",
            field="email",
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, organization=organization, role=role)
            audit.record(
                "member.add", actor=actor, organization=organization, target=membership,
                data={"email": user.email, "role": role},
            )  # fmt: skip
    except IntegrityError:
        raise RuleError(f"{user.email} is already a member.", field="email") from None
    return membership


def membership_change_role(
    *, membership: Membership, role: str, by: Membership, actor: Actor
) -> None:
    if role not in Role.values:
        raise RuleError("Choose a role.", field="role")
    if not access.can_manage_member(by, membership) or not access.can_assign_role(by, role):
        raise PermissionDenied("Super admins cannot change owners.")
    if role == membership.role:
        return
    with transaction.atomic():
        if role != Role.OWNER:
            _refuse_losing_last_owner(membership)
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            "member.role_change", actor=actor, organization=membership.organization,
            target=membership, data={"email": membership.user.email, "from": previous, "to": role},
        )  # fmt: skip


def credentials_left_by(
    *, organization: Organization, user: User, project: Project | None = None
) -> list:
    """Credentials `user` created in the organization (or for `project`) that keep working
    after they leave it: deployment tokens belong to their project, not to their creator."""
    return [
        credential
        for _, credentials in member_credentials.send(
            sender=Membership, organization=organization, user=user, project=project
        )
        for credential in credentials or []
    ]


def _revoke_credentials_left_by(
    *, organization: Organization, user: User, project: Project | None, actor: Actor
) -> int:
    return sum(
        count or 0
        for _, count in member_credentials_revoking.send(
            sender=Membership, organization=organization, user=user, project=project, actor=actor
        )
    )


def membership_remove(
    *, membership: Membership, by: Membership, actor: Actor, revoke_credentials: bool = False
) -> None:
    """Remove a member. The deployment tokens they created keep working unless the remover
    chose to revoke them too, in this same transaction."""
    if not access.can_manage_member(by, membership):
        raise PermissionDenied("Super admins cannot remove owners.")
    organization = membership.organization
    with transaction.atomic():
        _refuse_losing_last_owner(membership)
        for project in Project.objects.filter(
            organization=organization, maintainers=membership.user
        ):
            project.maintainers.remove(membership.user)
        data = {"email": membership.user.email, "role": membership.role}
        if revoke_credentials:
            data["tokens_revoked"] = _revoke_credentials_left_by(
                organization=organization, user=membership.user, project=None, actor=actor
            )
        audit.record(
            "member.remove", actor=actor, organization=organization, target=membership, data=data
        )
        membership.delete()


def project_create(*, organization: Organization, name: str, slug: str, actor: Actor) -> Project:
    name = _clean_project_name(name)
    if slug:
        slug = slugify(slug)
        if not slug:
            raise RuleError("Use letters, digits or dashes for the slug.", field="slug")
        if len(slug) > SLUG_MAX_LENGTH:
            raise RuleError(
                f"Keep the slug to {SLUG_MAX_LENGTH} characters or fewer.", field="slug"
            )
    else:
        slug = _free_slug(organization, name)
    try:
        with transaction.atomic():
            project = Project.objects.create(organization=organization, name=name, slug=slug)
            audit.record("project.create", actor=actor, target=project)
    except IntegrityError:
        raise RuleError(f"A project with the slug “{slug}” already exists.", field="slug") from None
    return project


def _clean_project_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise RuleError("Give the project a name.", field="name")
    if len(name) > PROJECT_NAME_MAX_LENGTH:
        raise RuleError(
            f"Keep the name to {PROJECT_NAME_MAX_LENGTH} characters or fewer.", field="name"
        )
    return name


def _free_slug(organization: Organization, name: str) -> str:
    """A slug derived from the name that fits the column and no live project of the
    organization uses yet: `web`, then `web-2`, `web-3`…"""
    base = slugify(name)[:SLUG_MAX_LENGTH].strip("-_")
    if not base:
        raise RuleError(
            "The name has no letters or digits to make a slug from: give one.", field="slug"
        )
    taken = set(
        Project.objects.filter(organization=organization, slug__startswith=base[:40]).values_list(
            "slug", flat=True
        )
    )
    slug, number = base, 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = base[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-_") + suffix
    return slug


def project_update(
    *,
    project: Project,
    name: str,
    maintainers: list[User],
    actor: Actor,
    revoke_credentials: bool = False,
) -> None:
    """Rename the project and set its maintainers. Deployment tokens created by a maintainer
    who is removed keep working unless `revoke_credentials`, in this same transaction."""
    name = _clean_project_name(name)
    members = set(
        Membership.objects.filter(organization=project.organization).values_list(
            "user_id", flat=True
        )
    )
    if any(user.pk not in members for user in maintainers):
        raise RuleError("Maintainers must be members of the organization.", field="maintainers")
    with transaction.atomic():
        previous = list(project.maintainers.all())
        before = {"name": project.name, "maintainers": _emails(previous)}
        project.name = name
        project.save(update_fields=["name"])
        project.maintainers.set(maintainers)
        after = {"name": name, "maintainers": _emails(maintainers)}
        data = {"from": before, "to": after}
        if revoke_credentials:
            data["tokens_revoked"] = sum(
                _revoke_credentials_left_by(
                    organization=project.organization, user=user, project=project, actor=actor
                )
                for user in removed_maintainers(previous, maintainers)
            )
        audit.record("project.update", actor=actor, target=project, data=data)


def removed_maintainers(before: list[User], after: list[User]) -> list[User]:
    kept = {user.pk for user in after}
    return [user for user in before if user.pk not in kept]


def _emails(users) -> list[str]:
    return sorted(user.email for user in users)


def project_delete(*, project: Project, actor: Actor) -> None:
    with transaction.atomic():
        project_deleting.send(sender=Project, project=project, actor=actor)
        project.deleted_at = timezone.now()
        project.save(update_fields=["deleted_at"])
        audit.record("project.delete", actor=actor, target=project)


def deployment_create(*, project: Project, ref: str, environment: str, actor: Actor) -> Deployment:
    ref = ref.strip()
    environment = environment.strip() or "production"
    if not ref:
        raise RuleError("Give the ref (a commit, tag or branch) being deployed.", field="ref")
    if len(ref) > REF_MAX_LENGTH:
        raise RuleError(f"Keep the ref to {REF_MAX_LENGTH} characters or fewer.", field="ref")
    if len(environment) > ENVIRONMENT_MAX_LENGTH or not re.fullmatch(
        ENVIRONMENT_PATTERN, environment
    ):
        raise RuleError(
            "Use letters, digits, dashes or underscores for the environment "
            f"({ENVIRONMENT_MAX_LENGTH} at most).",
            field="environment",
        )
    # The deployment row is itself the record of who deployed; it is not duplicated in the
    # audit log.
    token = actor.token
    return Deployment.objects.create(
        project=project,
        ref=ref,
        environment=environment,
        created_by=actor.user,
        token_id=token.pk if token else None,
        token_kind=token.kind if token else "",
        token_preview=token.preview if token else "",
    )


def organization_set_personal_token_deploys(
    *, organization: Organization, allowed: bool, actor: Actor
) -> None:
    if organization.allow_personal_token_deploys == allowed:
        return
    with transaction.atomic():
        organization.allow_personal_token_deploys = allowed
        organization.save(update_fields=["allow_personal_token_deploys"])
        audit.record(
            "org.deploy_policy", actor=actor, organization=organization,
            data={"allow_personal_token_deploys": allowed},
        )  # fmt: skip


def organization_set_require_two_factor(
    *, organization: Organization, required: bool, by: Membership, actor: Actor
) -> None:
    """Turn the organization's two-factor requirement on or off. Whoever turns it on must
    have a second factor, so no one locks themselves (and everyone else) out of it."""
    if by.organization_id != organization.pk or not access.is_admin(by):
        raise PermissionDenied("Only owners and super admins change security policies.")
    if required and not two_factor.has_two_factor(by.user):
        raise RuleError(
            "Set up two-factor authentication for your own account first: "
            "otherwise you would be locked out too."
        )
    _set_sign_in_policy(
        organization, "require_two_factor", required, "org.two_factor_policy", actor
    )


def organization_set_require_sso(
    *,
    organization: Organization,
    required: bool,
    by: Membership,
    signed_in_with_sso: bool,
    actor: Actor,
) -> None:
    """Turn the organization's single sign-on requirement on or off. It can be turned on only
    when SSO is configured and by someone whose own session came through it, so no one
    locks themselves (and everyone else) out."""
    if by.organization_id != organization.pk or not access.is_admin(by):
        raise PermissionDenied("Only owners and super admins change security policies.")
    if required and sso.provider() is None:
        raise RuleError("Single sign-on is not configured on this server (see the README).")
    if required and not signed_in_with_sso:
        raise RuleError(
            "Sign in with single sign-on yourself first: otherwise you would be locked out too."
        )
    _set_sign_in_policy(organization, "require_sso", required, "org.sso_policy", actor)


def _set_sign_in_policy(
    organization: Organization, field: str, required: bool, action: str, actor: Actor
) -> None:
    """Save one sign-in requirement with its audit event; saving the same value again records
    nothing."""
    if getattr(organization, field) == required:
        return
    with transaction.atomic():
        setattr(organization, field, required)
        organization.save(update_fields=[field])
        audit.record(action, actor=actor, organization=organization, data={field: required})
