"""Personal API token pages. A view parses, finds the object through a scoped lookup,
calls a service and renders: the page, or with HTMX the named partial it swaps."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from accounts.reauthentication import reauthentication_required
from lib.errors import RuleError
from lib.ids import parse_id
from lib.listing import token_listing
from lib.ui import HtmxHttpRequest, finish, render_dialog
from orgs import access, audit
from orgs.audit import Actor
from orgs.models import AuditEvent, Membership
from tokens import rotation_views, usage_views
from tokens.forms import PersonalTokenForm
from tokens.lifecycle import personal_expiry_rules
from tokens.models import Token
from tokens.notifications import NOTICE_PERIOD
from tokens.services import (
    TokenConfigurationError,
    salt_is_configured,
    token_issue,
    token_revoke,
    tokens_revoke_all,
)

PAGE = "tokens/personal.html"
TOKENS_CHANGED = "tokensChanged"


def _get_personal_token(request: HtmxHttpRequest, token_id: int) -> Token:
    return get_object_or_404(Token.objects.personal_for(request.user), pk=token_id)


def _page_context(request: HtmxHttpRequest) -> dict:
    return {
        **token_listing(Token.objects.personal_for(request.user), request),
        "salt_configured": salt_is_configured(),
    }


def _render(request: HtmxHttpRequest, partial: str, status: int = 200, **context) -> HttpResponse:
    return render_dialog(
        request,
        PAGE,
        partial,
        lambda: _page_context(request),
        back=reverse("tokens:personal"),
        status=status,
        **context,
    )


def _done(request: HtmxHttpRequest, text: str) -> HttpResponse:
    return finish(request, text, redirect_to=reverse("tokens:personal"), event=TOKENS_CHANGED)


@never_cache
@login_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("organization")
        .order_by("organization__name")
    )
    admin_orgs = [m.organization_id for m in memberships if access.is_admin(m)]
    expiring = (
        Token.objects.expiring_within(NOTICE_PERIOD)
        .filter(
            Q(kind=Token.Kind.PERSONAL, user=request.user)
            | Q(kind__in=[Token.Kind.CI, Token.Kind.DEPLOYMENT], organization__in=admin_orgs)
        )
        .select_related("organization", "project")
        .order_by("expires_at")
    )
    return render(
        request, "dashboard.html", {"memberships": memberships, "expiring": list(expiring)}
    )


@never_cache
@login_required
def personal_tokens(request: HtmxHttpRequest) -> HttpResponse:
    template = f"{PAGE}#token-table" if request.htmx else PAGE
    return render(request, template, _page_context(request))


@never_cache
@login_required
@reauthentication_required
@sensitive_post_parameters()
@sensitive_variables("issued")
@require_http_methods(["GET", "POST"])
def personal_token_create(request: HtmxHttpRequest) -> HttpResponse:
    # Organizations that refuse a personal token without an expiry (or too long) say so.
    rules = {"org_rules": personal_expiry_rules(request.user)}
    if request.method == "GET":
        return _render(request, "create-dialog", form=PersonalTokenForm(), **rules)
    form = PersonalTokenForm(request.POST)
    if not form.is_valid():
        return _render(request, "create-dialog", status=422, form=form, **rules)
    try:
        issued = token_issue(
            kind=Token.Kind.PERSONAL,
            user=request.user,
            name=form.cleaned_data["name"],
            permissions=form.cleaned_data["permissions"],
            expires_in_days=form.cleaned_data["expires_in_days"],
            allowed_ips=form.cleaned_data["allowed_ips"],
            actor=Actor.from_request(request),
        )
    except TokenConfigurationError as error:
        return _render(
            request, "create-dialog", status=503, form=form, config_error=str(error), **rules
        )
    except RuleError as error:
        form.add_error(error.field, error.message)
        return _render(request, "create-dialog", status=422, form=form, **rules)
    # The only time this token is shown: the response is never cached (see never_cache).
    response = _render(request, "token-shown", issued=issued)
    return trigger_client_event(response, TOKENS_CHANGED)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def personal_token_revoke(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    token = _get_personal_token(request, token_id)
    if request.method == "GET":
        return _render(request, "confirm-revoke", token=token)
    if token_revoke(token=token, actor=Actor.from_request(request), reason="revoked by owner"):
        return _done(request, f"Token “{token.name}” revoked. Anything using it stops working now.")
    return _done(request, f"Token “{token.name}” was already revoked.")


def _rotation(request: HtmxHttpRequest) -> dict:
    def dialog(partial: str, status: int = 200, **context) -> HttpResponse:
        return _render(request, partial, status, **context)

    return {"dialog": dialog, "back": reverse("tokens:personal"), "event": TOKENS_CHANGED}


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def personal_token_rotate(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    token = _get_personal_token(request, token_id)
    return rotation_views.rotate(request, token, **_rotation(request))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def personal_token_end_overlap(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    token = _get_personal_token(request, token_id)
    return rotation_views.end_overlap(request, token, **_rotation(request))


@never_cache
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def personal_tokens_revoke_all(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        active = Token.objects.personal_for(request.user).unrevoked().count()
        return _render(request, "confirm-revoke-all", active_count=active)
    count = tokens_revoke_all(user=request.user, actor=Actor.from_request(request))
    return _done(request, f"Revoked {count} token{'s' if count != 1 else ''}.")


@never_cache
@login_required
def personal_activity(request: HtmxHttpRequest) -> HttpResponse:
    """The audit trail of the user's own personal tokens."""
    token_ids = Token.objects.personal_for(request.user).values("pk")
    events = AuditEvent.objects.filter(
        Q(target_type="token", target_id__in=token_ids)
        | Q(action="token.revoke_all", actor_user=request.user)
    )
    page, older = audit.page_of(events, before=parse_id(request.GET.get("before")))
    older_url = f"{request.path}?before={older}" if older else None
    context = {"events": page, "older_url": older_url, "action_labels": audit.ACTIONS}
    return render(request, "tokens/activity.html", context)


# Who uses a token -------------------------------------------------------------------------


def _personal_place(token: Token) -> usage_views.Place:
    return usage_views.Place(
        here=reverse("tokens:personal-detail", args=[token.pk]),
        narrow=reverse("tokens:personal-narrow", args=[token.pk]),
        back=reverse("tokens:personal"),
        back_label="personal API tokens",
    )


@never_cache
@login_required
def personal_token_detail(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    token = _get_personal_token(request, token_id)
    return usage_views.detail(request, token, _personal_place(token))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def personal_token_narrow(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    # Narrowing only takes access away: no re-authentication (it guards minting and widening).
    token = _get_personal_token(request, token_id)
    return usage_views.narrow(request, token, _personal_place(token))
