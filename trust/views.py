"""A project's trust policies (trusted publishers): its owners, super admins and maintainers
only; anyone else gets 404, as on the deployment-token page."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.reauthentication import reauthentication_required
from lib.errors import RuleError
from lib.ui import HtmxHttpRequest, finish, render_dialog
from orgs import access
from orgs.audit import Actor
from orgs.models import Membership, Project
from tokens import permissions as perms
from trust import services
from trust.forms import TrustedPublisherForm
from trust.models import TrustedPublisher

PAGE = "trust/publishers.html"
CHANGED = "trustedPublishersChanged"


def _project_or_404(request: HtmxHttpRequest, org: str, project: str):
    membership = access.membership_or_404(request, org)
    project_obj = get_object_or_404(
        Project.objects.select_related("organization"),
        organization=membership.organization,
        slug=project,
    )
    if not access.can_manage_deployment_tokens(membership, project_obj):
        raise Http404
    return membership, project_obj


def _context(membership: Membership, project: Project) -> dict:
    return {
        "organization": membership.organization,
        "membership": membership,
        "project": project,
        "is_admin": access.is_admin(membership),
        "policies": TrustedPublisher.objects.filter(project=project),
        "issuer_kinds": services.CLAIMS,
    }


def _back(project: Project) -> str:
    return reverse("trust:publishers", args=[project.organization.slug, project.slug])


def _dialog(request, membership, project, partial, **context) -> HttpResponse:
    context.setdefault("project", project)
    context.setdefault("organization", membership.organization)
    context.setdefault("allowed_permissions", perms.ordered(services.PUBLISHER_PERMISSIONS))
    return render_dialog(
        request,
        PAGE,
        partial,
        lambda: _context(membership, project),
        back=_back(project),
        **context,
    )


@never_cache
@login_required
def publishers(request: HtmxHttpRequest, org: str, project: str) -> HttpResponse:
    membership, project_obj = _project_or_404(request, org, project)
    template = f"{PAGE}#policy-table" if request.htmx else PAGE
    return render(request, template, _context(membership, project_obj))


def _save(request, membership, project, policy=None) -> HttpResponse:
    initial = TrustedPublisherForm.initial_for(policy)
    if request.method == "GET":
        form = TrustedPublisherForm(initial=initial)
        return _dialog(request, membership, project, "policy-dialog", form=form, policy=policy)
    form = TrustedPublisherForm(request.POST)
    dialog = {"form": form, "policy": policy}
    if not form.is_valid():
        return _dialog(request, membership, project, "policy-dialog", status=422, **dialog)
    try:
        fields = form.policy_fields()
    except RuleError as error:
        form.add_error(error.field, error.message)
        return _dialog(request, membership, project, "policy-dialog", status=422, **dialog)
    actor = Actor.from_request(request)
    if policy is None:
        services.publisher_create(project=project, fields=fields, actor=actor)
        text = "Trusted publisher added."
    else:
        services.publisher_update(policy=policy, fields=fields, actor=actor)
        text = "Trusted publisher saved."
    return finish(request, text, redirect_to=_back(project), event=CHANGED)


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def publisher_create(request: HtmxHttpRequest, org: str, project: str) -> HttpResponse:
    membership, project_obj = _project_or_404(request, org, project)
    return _save(request, membership, project_obj)


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def publisher_edit(request: HtmxHttpRequest, org: str, project: str, policy_id: int):
    membership, project_obj = _project_or_404(request, org, project)
    policy = get_object_or_404(TrustedPublisher.objects.filter(project=project_obj), pk=policy_id)
    return _save(request, membership, project_obj, policy)


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def publisher_delete(request: HtmxHttpRequest, org: str, project: str, policy_id: int):
    membership, project_obj = _project_or_404(request, org, project)
    policy = get_object_or_404(TrustedPublisher.objects.filter(project=project_obj), pk=policy_id)
    if request.method == "GET":
        return _dialog(request, membership, project_obj, "confirm-delete", policy=policy)
    services.publisher_delete(policy=policy, actor=Actor.from_request(request))
    return finish(
        request, "Trusted publisher removed.", redirect_to=_back(project_obj), event=CHANGED
    )
