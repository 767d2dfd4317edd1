"""Invitations: invite by e-mail, resend, revoke, accept. The only code that writes them;
each call is one transaction with its audit event, and mail goes out after it commits.

The link's secret is returned once, to be e-mailed, and stored only as its SHA-256 digest."""

import dataclasses
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import emails
from accounts.models import User
from accounts.tasks import send_email
from lib.errors import RuleError
from orgs import access, audit
from orgs.audit import Actor
from orgs.models import Invitation, Membership, Organization, Project

logger = logging.getLogger(__name__)
Role = Membership.Role
LIFETIME = timedelta(days=7)
SECRET_BYTES = 32
# token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{43}")


class InvitationUnusable(Exception):
    """The link cannot be used (any more). `reason` picks the page; `status` its HTTP code."""

    STATUS = {"unknown": 404, "expired": 410, "accepted": 410, "revoked": 410, "replaced": 410}

    def __init__(self, reason: str, invitation: Invitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = self.STATUS[reason]
        self.invitation = invitation


class WrongAccount(Exception):
    """Signed in as someone other than the invited address."""


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    secret: str  # goes into the e-mail only; never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_well_formed(secret: str) -> bool:
    return bool(_SECRET_RE.fullmatch(secret or ""))


def accept_path(secret: str) -> str:
    return reverse("invitation", args=[secret])


def normalize_email(email: str) -> str:
    return email.strip().lower()


def has_pending_invitation(email: str) -> bool:
    """An open, unexpired invitation to this address: single sign-on may then create the
    person's account on their first sign-in (accounts.sso.JOIN_RULES; they join the
    organization by accepting the invitation)."""
    return (
        Invitation.objects.open()
        .filter(email=normalize_email(email), expires_at__gt=timezone.now())
        .exists()
    )


# Sending ------------------------------------------------------------------------------------


def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    projects: list[Project] | None = None,
    by: Membership,
    actor: Actor,
) -> SentInvitation:
    email = normalize_email(email)
    projects = list(projects or [])
    if role not in Role.values:
        raise RuleError("Choose a role.", field="role")
    if by.organization_id != organization.pk or not access.is_admin(by):
        raise PermissionDenied("Only owners and super admins invite people.")
    if not access.can_assign_role(by, role):
        raise PermissionDenied("Only owners can invite owners.")
    if projects and role != Role.MEMBER:
        raise RuleError(
            "Owners and super admins manage every project already: "
            "choose projects only for members.",
            field="projects",
        )
    if any(project.organization_id != organization.pk for project in projects):
        raise RuleError("Choose projects of this organization.", field="projects")
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise RuleError(f"{email} is already a member.", field="email")
    already = RuleError(
        f"{email} was already invited. Resend the invitation from the pending list.",
        field="email",
    )
    try:
        with transaction.atomic():
            previous = (
                Invitation.objects.select_for_update()
                .filter(organization=organization, email=email)
                .open()
                .first()
            )
            if previous is not None and not previous.is_expired:
                raise already
            if previous is not None:  # an expired link, superseded by the new one
                _retire(previous, by=by.user)
            sent = _issue(
                organization=organization, email=email, role=role, projects=projects, by=by
            )
            if previous is not None:
                previous.replaced_by = sent.invitation
                previous.save(update_fields=["replaced_by"])
            audit.record(
                "invitation.create", actor=actor, organization=organization,
                target=sent.invitation,
                data={"email": email, "role": role, "projects": _slugs(projects)},
            )  # fmt: skip
    except IntegrityError:  # invited by someone else at the same moment
        raise already from None
    return sent


def invitation_resend(*, invitation: Invitation, by: Membership, actor: Actor) -> SentInvitation:
    """A new link, e-mailed again; the old link stops working in the same transaction."""
    if not access.can_manage_invitation(by, invitation):
        raise PermissionDenied("Super admins cannot resend invitations to owners.")
    with transaction.atomic():
        old = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not old.is_open:
            raise RuleError(f"The invitation to {old.email} is no longer pending.")
        projects = list(old.projects.filter(deleted_at__isnull=True))
        # Retired first: only one open invitation per address may exist.
        _retire(old, by=by.user)
        sent = _issue(
            organization=old.organization,
            email=old.email,
            role=old.role,
            projects=projects,
            by=by,
        )
        old.replaced_by = sent.invitation
        old.save(update_fields=["replaced_by"])
        audit.record(
            "invitation.resend", actor=actor, organization=old.organization,
            target=sent.invitation, data={"email": old.email, "role": old.role},
        )  # fmt: skip
    return sent


def invitation_revoke(*, invitation: Invitation, by: Membership, actor: Actor) -> None:
    if not access.can_manage_invitation(by, invitation):
        raise PermissionDenied("Super admins cannot revoke invitations to owners.")
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise RuleError(f"{locked.email} already accepted the invitation.")
        if locked.revoked_at is not None:
            return
        _retire(locked, by=by.user)
        audit.record(
            "invitation.revoke", actor=actor, organization=locked.organization, target=locked,
            data={"email": locked.email, "role": locked.role},
        )  # fmt: skip


def _issue(
    *, organization: Organization, email: str, role: str, projects: list[Project], by: Membership
) -> SentInvitation:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    now = timezone.now()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        digest=digest(secret),
        invited_by=by.user,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    invitation.projects.set(projects)
    transaction.on_commit(lambda: _mail_after_commit(invitation, secret))
    return SentInvitation(invitation=invitation, secret=secret)


def _retire(invitation: Invitation, *, by: User) -> None:
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = by
    invitation.save(update_fields=["revoked_at", "revoked_by"])


def _mail_after_commit(invitation: Invitation, secret: str) -> None:
    # The invitation is saved by now: a mail server that refuses must not turn the answer
    # into an error page. The invitation stays pending, and "Resend" tries again.
    try:
        send_invitation_email(invitation, secret)
    except Exception:
        logger.exception("could not mail invitation %s", invitation.pk)


def send_invitation_email(invitation: Invitation, secret: str) -> None:
    """The one place an invitation is mailed, through the job queue."""
    inviter = invitation.invited_by.email if invitation.invited_by else "An administrator"
    name = " ".join(invitation.organization.name.split())  # no line breaks in a header
    link = f"{settings.SITE_URL}{accept_path(secret)}"
    send_email(
        invitation.email,
        subject=f"You are invited to join {name} on Tokendesk",
        body=(
            f"{inviter} invited you to join {name} on Tokendesk as "
            f"{invitation.get_role_display().lower()}.\n\n"
            f"Accept the invitation:\n{link}\n\n"
            f"The link works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
            "If you did not expect it, ignore this message.\n"
        ),
    )


def _slugs(projects: list[Project]) -> list[str]:
    return sorted(project.slug for project in projects)


# Accepting ----------------------------------------------------------------------------------


def invitation_for(secret: str) -> Invitation:
    """The usable invitation a link's secret names, or InvitationUnusable saying why."""
    if not is_well_formed(secret):
        raise InvitationUnusable("unknown")
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(digest=digest(secret))
        .first()
    )
    _check_usable(invitation)
    return invitation


def _check_usable(invitation: Invitation | None) -> None:
    if invitation is None:
        raise InvitationUnusable("unknown")
    if invitation.accepted_at is not None:
        raise InvitationUnusable("accepted", invitation)
    if invitation.replaced_by_id is not None:
        raise InvitationUnusable("replaced", invitation)
    if invitation.revoked_at is not None:
        raise InvitationUnusable("revoked", invitation)
    if invitation.is_expired:
        raise InvitationUnusable("expired", invitation)


def invitation_accept(
    *, secret: str, user: User | None, password: str | None = None, actor: Actor
) -> tuple[User, Membership]:
    """Join the organization. `user` is the signed-in person (who must be the invited
    address), or None for a new person, whose account is created with `password`.

    The invitation row is locked, so a double submit or two concurrent accepts make one
    membership: the second finds it accepted."""
    if not is_well_formed(secret):
        raise InvitationUnusable("unknown")
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organization")
            .filter(digest=digest(secret))
            .first()
        )
        _check_usable(invitation)
        if user is None:
            if password is None or User.objects.filter(email=invitation.email).exists():
                raise WrongAccount("Sign in to accept this invitation.")
            user = User.objects.create_user(email=invitation.email, password=password)
        elif normalize_email(user.email) != invitation.email:
            raise WrongAccount("This invitation is for another address.")
        # The link came to this address by e-mail: that proves it.
        emails.mark_verified(user)
        organization = invitation.organization
        membership, created = Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": invitation.role}
        )
        projects = []
        if created and invitation.role == Role.MEMBER:
            projects = list(invitation.projects.filter(deleted_at__isnull=True))
            for project in projects:
                project.maintainers.add(user)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            "invitation.accept", actor=dataclasses.replace(actor, user=user),
            organization=organization, target=invitation,
            data={
                "email": user.email, "role": membership.role, "projects": _slugs(projects),
                "already_member": not created,
            },
        )  # fmt: skip
    return user, membership
