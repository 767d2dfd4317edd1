"""May this user do X here? One answer per question, used by views and the API alike.

Not a member of the organization → the views answer 404, never 403: another
organization's pages do not exist for you."""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from accounts import sso, two_factor
from orgs.models import Membership, Organization, Project

Role = Membership.Role
ADMIN_ROLES = (Role.OWNER, Role.SUPER_ADMIN)


class TwoFactorRequired(Exception):
    """The organization requires two-factor sign-in and this member has none: its pages
    answer the enrol page instead (orgs.middleware)."""

    def __init__(self, organization: Organization):
        super().__init__(organization.slug)
        self.organization = organization


class SsoRequired(Exception):
    """The organization requires single sign-on and this session signed in otherwise: its
    pages answer the page asking to sign in with the provider (orgs.middleware)."""

    def __init__(self, organization: Organization):
        super().__init__(organization.slug)
        self.organization = organization


def membership_or_404(request: HttpRequest, org_slug: str) -> Membership:
    """The signed-in person's membership of the organization, or 404. Every page of an
    organization starts here, so its two-factor requirement is enforced here too (the
    organization is fetched with the membership: no extra query when nothing is required), and
    so is its single sign-on requirement."""
    membership = unchecked_membership_or_404(request, org_slug)
    if membership.organization.require_two_factor and not two_factor.has_two_factor(request.user):
        raise TwoFactorRequired(membership.organization)
    # Not enforced while the server has no provider configured: nobody could satisfy it.
    if (
        membership.organization.require_sso
        and sso.provider() is not None
        and not sso.signed_in_with_sso(request)
    ):
        raise SsoRequired(membership.organization)
    return membership


def unchecked_membership_or_404(request: HttpRequest, org_slug: str) -> Membership:
    """Only for the pages that ask a member to enrol or to sign in with SSO: no checks."""
    return get_object_or_404(
        Membership.objects.select_related("organization"),
        user=request.user,
        organization__slug=org_slug,
    )


def admin_membership_or_404(request: HttpRequest, org_slug: str) -> Membership:
    membership = membership_or_404(request, org_slug)
    if not is_admin(membership):
        raise Http404
    return membership


def is_admin(membership: Membership | None) -> bool:
    """Owners and super admins: CI tokens, every project's deployment tokens, projects,
    members, the audit log and deploy-auth settings."""
    return membership is not None and membership.role in ADMIN_ROLES


def can_manage_deployment_tokens(membership: Membership | None, project: Project) -> bool:
    if membership is None or membership.organization_id != project.organization_id:
        return False
    return is_admin(membership) or project.maintainers.filter(pk=membership.user_id).exists()


def can_assign_role(actor: Membership, role: str) -> bool:
    """Super admins manage members and super admins, never owners."""
    if actor.role == Role.OWNER:
        return True
    return actor.role == Role.SUPER_ADMIN and role != Role.OWNER


def can_manage_member(actor: Membership, member: Membership) -> bool:
    return is_admin(actor) and can_assign_role(actor, member.role)


def deployment_token_project_ids(membership: Membership) -> set[int]:
    """Projects of the organization whose deployment tokens this member may manage."""
    projects = Project.objects.filter(organization=membership.organization)
    if not is_admin(membership):
        projects = projects.filter(maintainers=membership.user_id)
    return set(projects.values_list("pk", flat=True))


def can_manage_invitation(actor: Membership | None, invitation) -> bool:
    """Resend or revoke: the same people who could have sent it (super admins never touch
    an invitation to become an owner)."""
    return (
        actor is not None
        and actor.organization_id == invitation.organization_id
        and is_admin(actor)
        and can_assign_role(actor, invitation.role)
    )
