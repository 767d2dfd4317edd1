"""Organization pages: overview and projects, members and roles, token policy.
Non-members get 404; members who may see a page but not change it get 403."""

import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import sso, two_factor
from accounts.reauthentication import reauthentication_required
from lib.errors import RuleError
from lib.ui import HtmxHttpRequest, finish, page_of, refuse, render_dialog
from orgs import access, audit, invitations, services
from orgs.audit import Actor
from orgs.forms import (
    AuditFilterForm,
    InviteForm,
    MemberAddForm,
    MemberRoleForm,
    ProjectCreateForm,
    ProjectEditForm,
)
from orgs.models import AuditEvent, Invitation, Membership, Organization, Project
from orgs.signals import project_dependents

OVERVIEW_PAGE = "orgs/overview.html"
MEMBERS_PAGE = "orgs/members.html"
PROJECTS_CHANGED = "projectsChanged"
MEMBERS_CHANGED = "membersChanged"


def _admin_or_403(membership: Membership) -> None:
    if not access.is_admin(membership):
        raise PermissionDenied("Only owners and super admins can do this.")


# Overview and projects ------------------------------------------------------------------


def _overview_context(membership: Membership) -> dict:
    organization = membership.organization
    projects = Project.objects.filter(organization=organization).prefetch_related("maintainers")
    return {
        "organization": organization,
        "membership": membership,
        "is_admin": access.is_admin(membership),
        "projects": projects,
        "manageable_ids": access.deployment_token_project_ids(membership),
    }


def _credentials_left(organization, people, *, project=None) -> dict:
    """For a removal's confirmation: the live deployment tokens these people created (which
    keep working), and who they are."""
    credentials, creators = [], []
    for person in people:
        theirs = services.credentials_left_by(
            organization=organization, user=person, project=project
        )
        if theirs:
            credentials += theirs
            creators.append(person.email)
    return {"credentials": credentials, "creators": ", ".join(creators)}


def _overview_dialog(request, membership, partial, **context) -> HttpResponse:
    context.setdefault("organization", membership.organization)
    back = reverse("orgs:overview", args=[membership.organization.slug])
    return render_dialog(
        request, OVERVIEW_PAGE, partial, lambda: _overview_context(membership), back=back, **context
    )


def _project_or_404(membership: Membership, slug: str) -> Project:
    return get_object_or_404(
        Project.objects.filter(organization=membership.organization), slug=slug
    )


@never_cache
@login_required
def overview(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    template = f"{OVERVIEW_PAGE}#project-table" if request.htmx else OVERVIEW_PAGE
    return render(request, template, _overview_context(membership))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    _admin_or_403(membership)
    if request.method == "GET":
        return _overview_dialog(request, membership, "project-create", form=ProjectCreateForm())
    form = ProjectCreateForm(request.POST)
    if form.is_valid():
        try:
            project = services.project_create(
                organization=membership.organization,
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                actor=Actor.from_request(request),
            )
        except RuleError as error:
            form.add_error(error.field, error.message)
        else:
            return finish(
                request,
                f"Project “{project.name}” created.",
                redirect_to=reverse("orgs:overview", args=[org]),
                event=PROJECTS_CHANGED,
            )
    return _overview_dialog(request, membership, "project-create", status=422, form=form)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request: HtmxHttpRequest, org: str, project: str) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    project_obj = _project_or_404(membership, project)
    _admin_or_403(membership)
    organization = membership.organization
    if request.method == "GET":
        form = ProjectEditForm(
            organization=organization,
            initial={"name": project_obj.name, "maintainers": list(project_obj.maintainers.all())},
        )
        return _overview_dialog(request, membership, "project-edit", form=form, project=project_obj)
    form = ProjectEditForm(request.POST, organization=organization)
    if form.is_valid():
        maintainers = list(form.cleaned_data["maintainers"])
        leaving = services.removed_maintainers(list(project_obj.maintainers.all()), maintainers)
        left = _credentials_left(organization, leaving, project=project_obj)
        if left["credentials"] and not form.cleaned_data["confirmed"]:
            # Ask first: their deployment tokens keep working unless revoked too.
            return _overview_dialog(
                request,
                membership,
                "project-edit-confirm",
                form=form,
                project=project_obj,
                leaving=", ".join(person.email for person in leaving),
                **left,
            )
        try:
            services.project_update(
                project=project_obj,
                name=form.cleaned_data["name"],
                maintainers=maintainers,
                actor=Actor.from_request(request),
                revoke_credentials=form.cleaned_data["revoke_credentials"],
            )
        except RuleError as error:
            form.add_error(error.field, error.message)
        else:
            return finish(
                request,
                f"Project “{project_obj.name}” saved.",
                redirect_to=reverse("orgs:overview", args=[org]),
                event=PROJECTS_CHANGED,
            )
    return _overview_dialog(
        request, membership, "project-edit", status=422, form=form, project=project_obj
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HtmxHttpRequest, org: str, project: str) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    project_obj = _project_or_404(membership, project)
    _admin_or_403(membership)
    if request.method == "GET":
        consequences = [
            sentence
            for _, sentence in project_dependents.send(sender=Project, project=project_obj)
            if sentence
        ]
        return _overview_dialog(
            request, membership, "project-delete", project=project_obj, consequences=consequences
        )
    services.project_delete(project=project_obj, actor=Actor.from_request(request))
    return finish(
        request,
        f"Project “{project_obj.name}” deleted.",
        redirect_to=reverse("orgs:overview", args=[org]),
        event=PROJECTS_CHANGED,
    )


# Members --------------------------------------------------------------------------------


def _assignable_roles(membership: Membership) -> list[tuple[str, str]]:
    return [
        (value, label)
        for value, label in Membership.Role.choices
        if access.can_assign_role(membership, value)
    ]


def _with_manageable(membership: Membership, member: Membership) -> Membership:
    """`member`, marked with whether `membership` may change its role or remove it."""
    member.manageable = access.can_manage_member(membership, member)
    return member


def _members_context(request: HtmxHttpRequest, membership: Membership) -> dict:
    """One page of the members (an organization may have thousands), by e-mail."""
    organization = membership.organization
    members = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email", "pk")
    )
    page = page_of(request, members)
    is_admin = access.is_admin(membership)
    shown = [_with_manageable(membership, member) for member in page.object_list]
    return {
        "organization": organization,
        "membership": membership,
        "is_admin": is_admin,
        "page": page,
        "members": shown,
        "assignable_roles": _assignable_roles(membership),
        "invitations": _pending_invitations(membership),
        **(_two_factor_context(organization, shown) if is_admin else {}),
    }


# Members named as having no second factor; the rest are counted ("and 9,990 more").
NAMED_WITHOUT_TWO_FACTOR = 10


def _two_factor_context(organization, shown: list[Membership]) -> dict:
    """For admins: who on this page signs in with a second factor, and how many in the whole
    organization would be asked to enrol, the first few by name (a few queries, whatever the
    organization's size)."""
    without = (
        Membership.objects.filter(organization=organization)
        .exclude(user__in=two_factor.enrolled_users())
        .order_by("user__email")
    )
    named = list(without.values_list("user__email", flat=True)[:NAMED_WITHOUT_TWO_FACTOR])
    count = without.count()
    return {
        "two_factor_ids": two_factor.users_with_two_factor(m.user_id for m in shown),
        "without_two_factor": named,
        "without_two_factor_count": count,
        "without_two_factor_more": count - len(named),
    }


def _pending_invitations(membership: Membership) -> list[Invitation]:
    if not access.is_admin(membership):
        return []
    pending = list(
        Invitation.objects.visible_to(membership.user)
        .filter(organization=membership.organization)
        .open()
        .select_related("invited_by")
        .prefetch_related("projects")
        .order_by("email")
    )
    for invitation in pending:
        invitation.manageable = access.can_manage_invitation(membership, invitation)
    return pending


def _member_or_404(membership: Membership, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.filter(organization=membership.organization).select_related(
            "user", "organization"
        ),
        pk=membership_id,
    )


@never_cache
@login_required
def members(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    template = f"{MEMBERS_PAGE}#member-table" if request.htmx else MEMBERS_PAGE
    return render(request, template, _members_context(request, membership))


def _members_dialog(request, membership, partial, **context) -> HttpResponse:
    context.setdefault("organization", membership.organization)
    context.setdefault("assignable_roles", _assignable_roles(membership))
    back = reverse("orgs:members", args=[membership.organization.slug])
    return render_dialog(
        request,
        MEMBERS_PAGE,
        partial,
        lambda: _members_context(request, membership),
        back=back,
        **context,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    _admin_or_403(membership)
    if request.method == "GET":
        return _members_dialog(request, membership, "member-add", form=MemberAddForm())
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            added = services.membership_add(
                organization=membership.organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                by=membership,
                actor=Actor.from_request(request),
            )
        except services.NoSuchAccount as error:
            # Nobody to add yet: offer the invitation, filled in with what was typed and
            # saying why next to the address.
            invite = InviteForm(
                {"email": form.cleaned_data["email"], "role": form.cleaned_data["role"]},
                organization=membership.organization,
            )
            invite.is_valid()
            invite.add_error(error.field, error.message)
            return _members_dialog(
                request,
                membership,
                "member-invite",
                status=422,
                form=invite,
                action=reverse("orgs:member-invite", args=[org]),
            )
        except RuleError as error:
            form.add_error(error.field, error.message)
        else:
            return finish(
                request,
                f"{added.user.email} added as {added.get_role_display().lower()}.",
                redirect_to=reverse("orgs:members", args=[org]),
                event=MEMBERS_CHANGED,
            )
    return _members_dialog(request, membership, "member-add", status=422, form=form)


# Invitations ----------------------------------------------------------------------------


def _invitation_or_404(request: HtmxHttpRequest, membership: Membership, pk: int) -> Invitation:
    return get_object_or_404(
        Invitation.objects.visible_to(request.user)
        .filter(organization=membership.organization)
        .select_related("organization"),
        pk=pk,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def member_invite(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    _admin_or_403(membership)
    organization = membership.organization
    if request.method == "GET":
        form = InviteForm(organization=organization, initial={"role": Membership.Role.MEMBER})
        return _members_dialog(request, membership, "member-invite", form=form)
    form = InviteForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            sent = invitations.invitation_create(
                organization=organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                projects=list(form.cleaned_data["projects"]),
                by=membership,
                actor=Actor.from_request(request),
            )
        except RuleError as error:
            form.add_error(error.field, error.message)
        else:
            return finish(
                request,
                f"Invitation sent to {sent.invitation.email}. The link works once, for 7 days.",
                redirect_to=reverse("orgs:members", args=[org]),
                event=MEMBERS_CHANGED,
            )
    return _members_dialog(request, membership, "member-invite", status=422, form=form)


@never_cache
@login_required
@require_POST
def invitation_resend(request: HtmxHttpRequest, org: str, invitation_id: int) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    _admin_or_403(membership)
    invitation = _invitation_or_404(request, membership, invitation_id)
    back = reverse("orgs:members", args=[org])
    try:
        invitations.invitation_resend(
            invitation=invitation, by=membership, actor=Actor.from_request(request)
        )
    except RuleError as error:
        return refuse(request, error.message, redirect_to=back)
    return finish(
        request,
        f"A new invitation link was sent to {invitation.email}; the previous one no longer works.",
        redirect_to=back,
        event=MEMBERS_CHANGED,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HtmxHttpRequest, org: str, invitation_id: int) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    _admin_or_403(membership)
    invitation = _invitation_or_404(request, membership, invitation_id)
    back = reverse("orgs:members", args=[org])
    if request.method == "GET":
        if not access.can_manage_invitation(membership, invitation):
            raise PermissionDenied("Super admins cannot revoke invitations to owners.")
        return _members_dialog(request, membership, "invitation-revoke", invitation=invitation)
    try:
        invitations.invitation_revoke(
            invitation=invitation, by=membership, actor=Actor.from_request(request)
        )
    except RuleError as error:
        return refuse(request, error.message, redirect_to=back)
    return finish(
        request,
        f"Invitation to {invitation.email} revoked; its link no longer works.",
        redirect_to=back,
        event=MEMBERS_CHANGED,
    )


@never_cache
@login_required
@reauthentication_required
@require_POST
def member_role(request: HtmxHttpRequest, org: str, membership_id: int) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    member = _member_or_404(membership, membership_id)
    _admin_or_403(membership)
    form = MemberRoleForm(request.POST)
    back = reverse("orgs:members", args=[org])
    if not form.is_valid():
        return refuse(request, "Choose a role.", redirect_to=back, status=422)
    try:
        services.membership_change_role(
            membership=member,
            role=form.cleaned_data["role"],
            by=membership,
            actor=Actor.from_request(request),
        )
    except RuleError as error:
        return refuse(request, error.message, redirect_to=back)
    return finish(
        request,
        f"{member.user.email} is now {member.get_role_display().lower()}.",
        redirect_to=back,
        event=MEMBERS_CHANGED,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: HtmxHttpRequest, org: str, membership_id: int) -> HttpResponse:
    membership = access.membership_or_404(request, org)
    member = _member_or_404(membership, membership_id)
    _admin_or_403(membership)
    back = reverse("orgs:members", args=[org])
    if request.method == "GET":
        return render_dialog(
            request,
            MEMBERS_PAGE,
            "member-remove",
            lambda: _members_context(request, membership),
            back=back,
            member=member,
            organization=membership.organization,
            **_credentials_left(membership.organization, [member.user]),
        )
    try:
        services.membership_remove(
            membership=member,
            by=membership,
            actor=Actor.from_request(request),
            revoke_credentials=request.POST.get("revoke_credentials") == "on",
        )
    except RuleError as error:
        return refuse(request, error.message, redirect_to=back)
    if member.user_id == request.user.id:
        messages.success(request, f"You left {membership.organization.name}.")
        return redirect("dashboard")
    return finish(request, f"{member.user.email} removed.", redirect_to=back, event=MEMBERS_CHANGED)


# Two-factor requirement ------------------------------------------------------------------


def _sign_in_policy(
    request: HtmxHttpRequest,
    org: str,
    *,
    field: str,
    partial: str,
    what: str,
    change: Callable[..., None],
    dialog_extra: Callable[[Organization], dict] = lambda organization: {},
) -> HttpResponse:
    """The organization's sign-in requirements (two-factor, single sign-on) share one flow:
    a confirmation dialog, then `change(organization=, required=, by=, actor=)`. The change
    asked for is the opposite of the current state, so a repeated submit of a stale page
    does nothing instead of flipping it back."""
    membership = access.membership_or_404(request, org)
    _admin_or_403(membership)
    organization = membership.organization
    back = reverse("orgs:members", args=[org])
    required = not getattr(organization, field)
    if request.method == "GET":
        return render_dialog(
            request,
            MEMBERS_PAGE,
            partial,
            lambda: _members_context(request, membership),
            back=back,
            organization=organization,
            required=required,
            **dialog_extra(organization),
        )
    if request.POST.get(field) != ("on" if required else "off"):
        return refuse(request, "The setting changed meanwhile: check it again.", redirect_to=back)
    try:
        change(
            organization=organization,
            required=required,
            by=membership,
            actor=Actor.from_request(request),
        )
    except RuleError as error:
        return refuse(request, error.message, redirect_to=back)
    now = "now requires" if required else "no longer requires"
    return finish(
        request, f"{organization.name} {now} {what}.", redirect_to=back, event=MEMBERS_CHANGED
    )


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def two_factor_policy(request: HtmxHttpRequest, org: str) -> HttpResponse:
    return _sign_in_policy(
        request,
        org,
        field="require_two_factor",
        partial="two-factor-policy",
        what="two-factor authentication",
        change=services.organization_set_require_two_factor,
        # The dialog names who would be asked to enrol.
        dialog_extra=lambda organization: _two_factor_context(organization, []),
    )


@never_cache
@login_required
def two_factor_required(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """What a member without a second factor sees instead of the organization's pages."""
    membership = access.unchecked_membership_or_404(request, org)
    organization = membership.organization
    if not organization.require_two_factor or two_factor.has_two_factor(request.user):
        return redirect("orgs:overview", org)
    return render(request, "orgs/two_factor_required.html", {"organization": organization})


# Single sign-on requirement --------------------------------------------------------------


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def sso_policy(request: HtmxHttpRequest, org: str) -> HttpResponse:
    return _sign_in_policy(
        request,
        org,
        field="require_sso",
        partial="sso-policy",
        what="single sign-on",
        change=functools.partial(
            services.organization_set_require_sso,
            signed_in_with_sso=sso.signed_in_with_sso(request),
        ),
    )


@never_cache
@login_required
def sso_required(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """What a member who signed in with a password sees instead of the organization's pages."""
    membership = access.unchecked_membership_or_404(request, org)
    organization = membership.organization
    if not organization.require_sso or sso.signed_in_with_sso(request):
        return redirect("orgs:overview", org)
    response = render(
        request,
        "orgs/sso_required.html",
        {"organization": organization, "next": reverse("orgs:overview", args=[org])},
    )
    return sso.let_forms_reach_provider(response)


# Audit log ------------------------------------------------------------------------------

AUDIT_PAGE = "orgs/audit.html"


@never_cache
@login_required
def audit_log(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    organization = membership.organization
    form = AuditFilterForm(request.GET)
    events, older, status = [], None, 422
    if form.is_valid():
        matching = AuditEvent.objects.filter(organization=organization).matching(**form.filters())
        events, older = audit.page_of(matching, before=form.cleaned_data["before"])
        status = 200
    context = {
        "organization": organization,
        "membership": membership,
        "is_admin": True,
        "form": form,
        "events": events,
        "older_url": _older_url(request, older),
        "action_labels": audit.ACTIONS,
        "export_query": _export_query(request),
    }
    template = f"{AUDIT_PAGE}#audit-table" if request.htmx else AUDIT_PAGE
    return render(request, template, context, status=status)


def _export_query(request: HtmxHttpRequest) -> str:
    """The filters, for the export links (which stream the whole filtered log)."""
    query = request.GET.copy()
    for name in ("before", "format", "page"):
        query.pop(name, None)
    return query.urlencode()


def _older_url(request: HtmxHttpRequest, before: int | None) -> str | None:
    """This page's URL and filters, one page further back."""
    if before is None:
        return None
    query = request.GET.copy()
    query["before"] = before
    return f"{request.path}?{query.urlencode()}"
