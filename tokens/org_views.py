"""Organization CI tokens and project deployment tokens. Access is decided by orgs.access
on a membership found through a scoped lookup; anything else answers 404."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from accounts.reauthentication import reauthentication_required
from lib.errors import RuleError
from lib.limits import MAX_TOKEN_LIFETIME_DAYS
from lib.listing import token_listing
from lib.ui import HtmxHttpRequest, finish, page_of, refuse, render_dialog
from orgs import access, lifecycle
from orgs.audit import Actor
from orgs.models import Membership, Project
from orgs.services import organization_set_personal_token_deploys
from tokens import permissions as perms
from tokens import rotation_views, usage_views
from tokens.deploy_auth import (
    QUIET_PERIOD,
    USAGE_WINDOW,
    deploy_auth_status,
    legacy_server_tokens,
    legacy_usage,
    personal_deploy_reach,
    usages,
)
from tokens.forms import CITokenForm, DeploymentTokenForm, LifecyclePolicyForm
from tokens.lifecycle import policy_breaches
from tokens.models import Token
from tokens.services import (
    TokenConfigurationError,
    expiry_required,
    max_lifetime_days,
    salt_is_configured,
    token_issue,
    token_reset,
    token_revoke,
)

CI_PAGE = "tokens/ci.html"
DEPLOYMENT_PAGE = "tokens/deployment.html"
CI_CHANGED = "ciTokensChanged"
# The audit reason of a CI or deployment token revoked from its page.
PAGE_REVOKE = "revoked in the dashboard"
DEPLOYMENT_CHANGED = "deploymentTokensChanged"


# CI tokens ------------------------------------------------------------------------------


def _ci_token_or_404(membership: Membership, token_id: int) -> Token:
    return get_object_or_404(
        Token.objects.filter(kind=Token.Kind.CI, organization=membership.organization),
        pk=token_id,
    )


def _ci_context(request: HtmxHttpRequest, membership: Membership) -> dict:
    organization = membership.organization
    return {
        **token_listing(
            Token.objects.filter(kind=Token.Kind.CI, organization=organization), request
        ),
        "organization": organization,
        "membership": membership,
        "salt_configured": salt_is_configured(),
        "role_labels": perms.ROLE_LABELS,
        "is_admin": True,
        "limit_days": organization.max_token_lifetime_days,
        "max_lifetime_days": MAX_TOKEN_LIFETIME_DAYS,
        "policy_form": _policy_form(organization),
    }


def _policy_form(organization) -> LifecyclePolicyForm:
    policy = lifecycle.policy_of(organization)
    return LifecyclePolicyForm(
        initial={
            "require_expiry": policy.require_expiry,
            "max_lifetime_days": policy.max_lifetime_days,
            "idle_revoke_days": policy.idle_revoke_days,
        }
    )


def _expiry_rules(kind: str, organization) -> dict:
    """The organization's expiry rules for a new token's form and dialog."""
    return {
        "limit_days": max_lifetime_days(kind, organization),
        "expiry_required": expiry_required(kind, organization),
    }


def _ci_dialog(request, membership, partial, **context) -> HttpResponse:
    context.setdefault("organization", membership.organization)
    back = reverse("tokens:ci", args=[membership.organization.slug])
    return render_dialog(
        request, CI_PAGE, partial, lambda: _ci_context(request, membership), back=back, **context
    )


@never_cache
@login_required
def ci_tokens(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    template = f"{CI_PAGE}#token-table" if request.htmx else CI_PAGE
    return render(request, template, _ci_context(request, membership))


@never_cache
@login_required
@reauthentication_required
@sensitive_post_parameters()
@sensitive_variables("issued")
@require_http_methods(["GET", "POST"])
def ci_token_create(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    organization = membership.organization
    rules = _expiry_rules(Token.Kind.CI, organization)
    if request.method == "GET":
        form = CITokenForm(**rules)
        return _ci_dialog(request, membership, "create-dialog", form=form, **rules)
    form = CITokenForm(request.POST, **rules)
    dialog = {"form": form, **rules}
    if not form.is_valid():
        return _ci_dialog(request, membership, "create-dialog", status=422, **dialog)
    try:
        issued = token_issue(
            kind=Token.Kind.CI,
            organization=organization,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            role=form.cleaned_data["role"],
            permissions=form.cleaned_data["granted"],
            expires_in_days=form.cleaned_data["expires_in_days"],
            allowed_ips=form.cleaned_data["allowed_ips"],
            actor=Actor.from_request(request),
        )
    except TokenConfigurationError as error:
        return _ci_dialog(
            request, membership, "create-dialog", status=503, config_error=str(error), **dialog
        )
    except RuleError as error:
        form.add_error(error.field, error.message)
        return _ci_dialog(request, membership, "create-dialog", status=422, **dialog)
    # The only time this token is shown: the response is never cached (see never_cache).
    response = _ci_dialog(request, membership, "token-shown", issued=issued)
    return trigger_client_event(response, CI_CHANGED)


@never_cache
@login_required
@reauthentication_required
@sensitive_variables("issued")
@require_http_methods(["GET", "POST"])
def ci_token_reset(request: HtmxHttpRequest, org: str, token_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    token = _ci_token_or_404(membership, token_id)
    if request.method == "GET":
        return _ci_dialog(request, membership, "confirm-reset", token=token)
    try:
        issued = token_reset(token=token, actor=Actor.from_request(request))
    except TokenConfigurationError as error:
        return _ci_dialog(
            request, membership, "confirm-reset", status=503, token=token, config_error=str(error)
        )
    except RuleError as error:
        return refuse(request, error.message, redirect_to=reverse("tokens:ci", args=[org]))
    response = _ci_dialog(request, membership, "token-shown", issued=issued)
    return trigger_client_event(response, CI_CHANGED)


def _ci_rotation(request: HtmxHttpRequest, membership: Membership) -> dict:
    return {
        "dialog": functools.partial(_ci_dialog, request, membership),
        "back": reverse("tokens:ci", args=[membership.organization.slug]),
        "event": CI_CHANGED,
    }


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def ci_token_rotate(request: HtmxHttpRequest, org: str, token_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    token = _ci_token_or_404(membership, token_id)
    return rotation_views.rotate(request, token, **_ci_rotation(request, membership))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def ci_token_end_overlap(request: HtmxHttpRequest, org: str, token_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    token = _ci_token_or_404(membership, token_id)
    return rotation_views.end_overlap(request, token, **_ci_rotation(request, membership))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def ci_token_revoke(request: HtmxHttpRequest, org: str, token_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    token = _ci_token_or_404(membership, token_id)
    if request.method == "GET":
        return _ci_dialog(request, membership, "confirm-revoke", token=token)
    revoked = token_revoke(token=token, actor=Actor.from_request(request), reason=PAGE_REVOKE)
    text = f"Token “{token.name}” revoked." if revoked else f"“{token.name}” was already revoked."
    return finish(request, text, redirect_to=reverse("tokens:ci", args=[org]), event=CI_CHANGED)


# Lifecycle policy -----------------------------------------------------------------------

POLICY_CHANGED = "tokenPolicyChanged"
# The confirmation of a stricter policy lists this many affected tokens, then a count.
BREACHES_SHOWN = 50


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def ci_token_policy(request: HtmxHttpRequest, org: str) -> HttpResponse:
    """The token lifecycle policy on the CI tokens page (orgs/lifecycle.py). A stricter policy
    is saved only once confirmed, after a dialog listing the existing tokens it catches and
    what will happen to each; a looser one is saved at once. GET: the policy panel (HTMX
    refreshes it after a save)."""
    membership = access.admin_membership_or_404(request, org)
    organization = membership.organization
    back = reverse("tokens:ci", args=[org])
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{CI_PAGE}#token-policy", _ci_context(request, membership))
        return redirect(back)
    form = LifecyclePolicyForm(request.POST)
    policy = None
    if form.is_valid():
        try:
            policy = form.policy()
        except RuleError as error:
            form.add_error(error.field, error.message)
    if policy is None:
        return _policy_refused(request, membership, form)
    current = lifecycle.policy_of(organization)
    stricter = lifecycle.stricter_parts(current, policy)
    if stricter and not form.cleaned_data["confirmed"]:
        breaches = policy_breaches(organization, policy)
        return _ci_dialog(
            request,
            membership,
            "policy-confirm",
            policy=policy,
            stricter=stricter,
            breaches=breaches[:BREACHES_SHOWN],
            total=len(breaches),
            more=max(0, len(breaches) - BREACHES_SHOWN),
            action=reverse("tokens:ci-policy", args=[org]),
        )
    changed = lifecycle.organization_set_lifecycle_policy(
        organization=organization, policy=policy, actor=Actor.from_request(request)
    )
    text = "Token policy saved." if changed else "The token policy was already so."
    return finish(request, text, redirect_to=back, event=POLICY_CHANGED)


def _policy_refused(request: HtmxHttpRequest, membership, form) -> HttpResponse:
    """Bad values: the panel again with a message next to each field, nothing saved."""
    context = {**_ci_context(request, membership), "policy_form": form}
    if request.htmx:
        response = render(request, f"{CI_PAGE}#token-policy", context, status=422)
        return reswap(retarget(response, "#token-policy"), "outerHTML")
    return render(request, CI_PAGE, context, status=422)


# Deployment tokens ----------------------------------------------------------------------


def _project_access_or_404(request: HtmxHttpRequest, org: str, project_slug: str):
    membership = access.membership_or_404(request, org)
    project = get_object_or_404(
        Project.objects.select_related("organization"),
        organization=membership.organization,
        slug=project_slug,
    )
    if not access.can_manage_deployment_tokens(membership, project):
        raise Http404
    return membership, project


def _deployment_token_or_404(project: Project, token_id: int) -> Token:
    return get_object_or_404(Token.objects.filter(project=project), pk=token_id)


def _deployment_context(request: HtmxHttpRequest, membership: Membership, project: Project) -> dict:
    return {
        **token_listing(Token.objects.filter(project=project), request),
        "organization": membership.organization,
        "membership": membership,
        "project": project,
        "salt_configured": salt_is_configured(),
        "limit_days": membership.organization.max_token_lifetime_days,
        "is_admin": access.is_admin(membership),
    }


def _deployment_dialog(request, membership, project, partial, **context) -> HttpResponse:
    context.setdefault("project", project)
    context.setdefault("organization", membership.organization)
    return render_dialog(
        request,
        DEPLOYMENT_PAGE,
        partial,
        lambda: _deployment_context(request, membership, project),
        back=reverse("tokens:deployment", args=[membership.organization.slug, project.slug]),
        **context,
    )


@never_cache
@login_required
def deployment_tokens(request: HtmxHttpRequest, org: str, project: str) -> HttpResponse:
    membership, project_obj = _project_access_or_404(request, org, project)
    template = f"{DEPLOYMENT_PAGE}#token-table" if request.htmx else DEPLOYMENT_PAGE
    return render(request, template, _deployment_context(request, membership, project_obj))


def default_deployment_label(project: Project) -> str:
    # Slugs fit in 50 characters; older rows may not, and the name must fit too.
    return f"{project.slug[:50]} deploy {timezone.now():%Y-%m-%d %H:%M:%S}"


@never_cache
@login_required
@reauthentication_required
@sensitive_variables("issued")
@require_http_methods(["GET", "POST"])
def deployment_token_generate(request: HtmxHttpRequest, org: str, project: str) -> HttpResponse:
    membership, project_obj = _project_access_or_404(request, org, project)
    rules = _expiry_rules(Token.Kind.DEPLOYMENT, membership.organization)
    if request.method == "GET":
        form = DeploymentTokenForm(**rules)
        return _deployment_dialog(
            request, membership, project_obj, "generate-dialog", form=form, **rules
        )
    # A POST without fields (a script, an older page) gets the default label and no expiry
    # (the organization's maximum, when it sets one; refused where it requires an expiry).
    form = DeploymentTokenForm(request.POST, **rules)
    dialog = {"form": form, **rules}
    if not form.is_valid():
        return _deployment_dialog(
            request, membership, project_obj, "generate-dialog", status=422, **dialog
        )
    try:
        issued = token_issue(
            kind=Token.Kind.DEPLOYMENT,
            project=project_obj,
            name=form.cleaned_data["name"] or default_deployment_label(project_obj),
            role="ci",
            permissions=perms.ROLE_PRESETS["ci"],
            expires_in_days=form.cleaned_data["expires_in_days"],
            allowed_ips=form.cleaned_data["allowed_ips"],
            actor=Actor.from_request(request),
        )
    except TokenConfigurationError as error:
        return _deployment_dialog(
            request, membership, project_obj, "config-error", status=503, config_error=str(error)
        )
    except RuleError as error:
        if error.field in form.fields:
            form.add_error(error.field, error.message)
            return _deployment_dialog(
                request, membership, project_obj, "generate-dialog", status=422, **dialog
            )
        back = reverse("tokens:deployment", args=[org, project])
        return refuse(request, error.message, redirect_to=back, status=422)
    # The only time this token is shown: the response is never cached (see never_cache).
    response = _deployment_dialog(request, membership, project_obj, "token-shown", issued=issued)
    return trigger_client_event(response, DEPLOYMENT_CHANGED)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def deployment_token_revoke(
    request: HtmxHttpRequest, org: str, project: str, token_id: int
) -> HttpResponse:
    membership, project_obj = _project_access_or_404(request, org, project)
    token = _deployment_token_or_404(project_obj, token_id)
    if request.method == "GET":
        return _deployment_dialog(request, membership, project_obj, "confirm-revoke", token=token)
    revoked = token_revoke(token=token, actor=Actor.from_request(request), reason=PAGE_REVOKE)
    text = f"Token {token.preview} revoked." if revoked else f"{token.preview} was already revoked."
    return finish(
        request,
        text,
        redirect_to=reverse("tokens:deployment", args=[org, project]),
        event=DEPLOYMENT_CHANGED,
    )


def _deployment_rotation(request, membership, project: Project) -> dict:
    return {
        "dialog": functools.partial(_deployment_dialog, request, membership, project),
        "back": reverse("tokens:deployment", args=[membership.organization.slug, project.slug]),
        "event": DEPLOYMENT_CHANGED,
    }


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def deployment_token_rotate(
    request: HtmxHttpRequest, org: str, project: str, token_id: int
) -> HttpResponse:
    membership, project_obj = _project_access_or_404(request, org, project)
    token = _deployment_token_or_404(project_obj, token_id)
    rotation = _deployment_rotation(request, membership, project_obj)
    return rotation_views.rotate(request, token, **rotation)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def deployment_token_end_overlap(
    request: HtmxHttpRequest, org: str, project: str, token_id: int
) -> HttpResponse:
    membership, project_obj = _project_access_or_404(request, org, project)
    token = _deployment_token_or_404(project_obj, token_id)
    rotation = _deployment_rotation(request, membership, project_obj)
    return rotation_views.end_overlap(request, token, **rotation)


# Deploy auth ----------------------------------------------------------------------------

DEPLOY_AUTH_PAGE = "tokens/deploy_auth.html"
DEPLOY_AUTH_CHANGED = "deployAuthChanged"


def _usage_page(request: HtmxHttpRequest, organization, kind: str, param: str) -> Page:
    page = page_of(request, legacy_usage(organization, kind), param=param)
    return Page(usages(page.object_list), page.number, page.paginator)


def _deploy_auth_context(request: HtmxHttpRequest, membership: Membership) -> dict:
    """The page's three lists each page on their own (`personal_page`, `legacy_page`,
    `server_page`), so every organization's page costs the same queries."""
    organization = membership.organization
    return {
        "organization": organization,
        "membership": membership,
        "is_admin": True,
        "status": deploy_auth_status(organization),
        "personal_usage": _usage_page(request, organization, Token.Kind.PERSONAL, "personal_page"),
        "server_tokens": page_of(request, legacy_server_tokens(organization), param="legacy_page"),
        "server_usage": _usage_page(request, organization, Token.Kind.SERVER, "server_page"),
        "quiet_days": QUIET_PERIOD.days,
    }


def _deploy_auth_done(request: HtmxHttpRequest, org: str, text: str) -> HttpResponse:
    back = reverse("tokens:deploy-auth", args=[org])
    return finish(request, text, redirect_to=back, event=DEPLOY_AUTH_CHANGED)


@never_cache
@login_required
def deploy_auth(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    template = f"{DEPLOY_AUTH_PAGE}#migration" if request.htmx else DEPLOY_AUTH_PAGE
    return render(request, template, _deploy_auth_context(request, membership))


@never_cache
@login_required
@reauthentication_required
@require_POST
def deploy_auth_policy(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    allowed = request.POST.get("allow_personal_token_deploys") == "on"
    refusing = not allowed and membership.organization.allow_personal_token_deploys
    if refusing and request.POST.get("confirmed") != "yes":
        return _confirm_refusing_personal_deploys(request, membership)
    organization_set_personal_token_deploys(
        organization=membership.organization, allowed=allowed, actor=Actor.from_request(request)
    )
    text = (
        "Deployments with personal tokens are allowed."
        if allowed
        else "Deployments with personal tokens are now refused."
    )
    return _deploy_auth_done(request, org, text)


def _confirm_refusing_personal_deploys(
    request: HtmxHttpRequest, membership: Membership
) -> HttpResponse:
    """Refusing personal-token deployments breaks every pipeline still using one at once:
    first say how many did in the last 30 days, and ask. Nothing changes until confirmed; the
    switch behind the dialog shows the saved setting again."""
    reach = personal_deploy_reach(membership.organization)
    response = render_dialog(
        request,
        DEPLOY_AUTH_PAGE,
        "confirm-refuse-personal",
        lambda: _deploy_auth_context(request, membership),
        back=reverse("tokens:deploy-auth", args=[membership.organization.slug]),
        organization=membership.organization,
        reach=reach,
        usage_days=USAGE_WINDOW.days,
    )
    if request.htmx:
        response = retarget(reswap(response, "innerHTML"), "#dialog-slot")
        trigger_client_event(response, DEPLOY_AUTH_CHANGED)
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def legacy_token_revoke(request: HtmxHttpRequest, org: str, token_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    token = get_object_or_404(
        Token.objects.filter(kind=Token.Kind.SERVER, organization=membership.organization),
        pk=token_id,
    )
    if request.method == "GET":
        return render_dialog(
            request,
            DEPLOY_AUTH_PAGE,
            "confirm-revoke",
            lambda: _deploy_auth_context(request, membership),
            back=reverse("tokens:deploy-auth", args=[org]),
            token=token,
            organization=membership.organization,
        )
    revoked = token_revoke(
        token=token, actor=Actor.from_request(request), reason="legacy credential retired"
    )
    text = f"“{token.name}” revoked." if revoked else f"“{token.name}” was already revoked."
    return _deploy_auth_done(request, org, text)


# Who uses a token (CI and deployment) -------------------------------------------------------


def _ci_place(membership: Membership, token: Token) -> usage_views.Place:
    org = membership.organization.slug
    return usage_views.Place(
        here=reverse("tokens:ci-detail", args=[org, token.pk]),
        narrow=reverse("tokens:ci-narrow", args=[org, token.pk]),
        back=reverse("tokens:ci", args=[org]),
        back_label="CI tokens",
        extra={
            "organization": membership.organization,
            "membership": membership,
            "is_admin": True,
            "tabs_active": "ci",
        },
    )


@never_cache
@login_required
def ci_token_detail(request: HtmxHttpRequest, org: str, token_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    token = _ci_token_or_404(membership, token_id)
    return usage_views.detail(request, token, _ci_place(membership, token))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def ci_token_narrow(request: HtmxHttpRequest, org: str, token_id: int) -> HttpResponse:
    # Narrowing only takes access away: no re-authentication (it guards minting and widening).
    membership = access.admin_membership_or_404(request, org)
    token = _ci_token_or_404(membership, token_id)
    return usage_views.narrow(request, token, _ci_place(membership, token))


def _deployment_place(membership: Membership, project: Project, token: Token):
    args = [membership.organization.slug, project.slug]
    return usage_views.Place(
        here=reverse("tokens:deployment-detail", args=[*args, token.pk]),
        narrow=reverse("tokens:deployment-narrow", args=[*args, token.pk]),
        back=reverse("tokens:deployment", args=args),
        back_label=f"deployment tokens of {project.name}",
        extra={
            "organization": membership.organization,
            "membership": membership,
            "is_admin": access.is_admin(membership),
            "tabs_active": "projects",
        },
    )


@never_cache
@login_required
def deployment_token_detail(
    request: HtmxHttpRequest, org: str, project: str, token_id: int
) -> HttpResponse:
    membership, project_obj = _project_access_or_404(request, org, project)
    token = _deployment_token_or_404(project_obj, token_id)
    return usage_views.detail(request, token, _deployment_place(membership, project_obj, token))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def deployment_token_narrow(
    request: HtmxHttpRequest, org: str, project: str, token_id: int
) -> HttpResponse:
    membership, project_obj = _project_access_or_404(request, org, project)
    token = _deployment_token_or_404(project_obj, token_id)
    return usage_views.narrow(request, token, _deployment_place(membership, project_obj, token))
