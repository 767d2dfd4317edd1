"""The page an invitation link opens: `/invitations/<secret>/`. Anyone with the link may
open it; every state it can be in (unknown, expired, used, revoked, replaced, meant for
another account) answers its own page with the layout, never a 500."""

import math
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from accounts.models import User
from ops import rate_limit
from ops.client_address import client_ip
from orgs import invitations
from orgs.audit import Actor
from orgs.forms import AcceptInvitationForm
from orgs.invitations import InvitationUnusable, WrongAccount
from orgs.models import Invitation, Membership

PAGE = "orgs/invitation.html"
# Per client address, every request to an invitation link counts: secrets cannot be
# guessed (256 bits), but a flood of tries should still stop early and cheaply.
ATTEMPTS_PER_WINDOW = 20
WINDOW_SECONDS = 600
SIGN_IN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _page(request: HttpRequest, state: str, *, status: int = 200, **context) -> HttpResponse:
    return render(request, PAGE, {"state": state, **context}, status=status)


def _unusable(request: HttpRequest, error: InvitationUnusable) -> HttpResponse:
    invitation = error.invitation
    return _page(
        request,
        error.reason,
        status=error.status,
        invitation=invitation,
        organization=invitation.organization if invitation else None,
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@sensitive_variables("secret")
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, secret: str) -> HttpResponse:
    verdict = rate_limit.hit(
        f"invitation:{client_ip(request)}", limit=ATTEMPTS_PER_WINDOW, window=WINDOW_SECONDS
    )
    if not verdict.allowed:
        response = _page(
            request, "throttled", status=429, minutes=math.ceil(verdict.retry_after / 60)
        )
        response["Retry-After"] = str(verdict.retry_after)
        return response
    try:
        found = invitations.invitation_for(secret)
        if request.user.is_authenticated:
            return _signed_in(request, secret, found)
        return _signed_out(request, secret, found)
    except InvitationUnusable as error:
        return _unusable(request, error)


def _context(found: Invitation) -> dict:
    return {"invitation": found, "organization": found.organization}


def _signed_in(request: HttpRequest, secret: str, found: Invitation) -> HttpResponse:
    if invitations.normalize_email(request.user.email) != found.email:
        return _page(request, "wrong-account", status=403, **_context(found))
    if request.method == "GET":
        already = Membership.objects.filter(
            user=request.user, organization=found.organization
        ).exists()
        return _page(request, "join", already_member=already, **_context(found))
    try:
        _, membership = invitations.invitation_accept(
            secret=secret, user=request.user, actor=Actor.from_request(request)
        )
    except WrongAccount:
        return _page(request, "wrong-account", status=403, **_context(found))
    return _welcome(request, membership)


def _signed_out(request: HttpRequest, secret: str, found: Invitation) -> HttpResponse:
    if User.objects.filter(email=found.email).exists():
        # An existing account joins after signing in, then comes back here.
        login_url = resolve_url(settings.LOGIN_URL)
        sign_in = f"{login_url}?{urlencode({'next': request.path})}"
        return _page(request, "sign-in", sign_in_url=sign_in, **_context(found))
    data = request.POST if request.method == "POST" else None
    form = AcceptInvitationForm(data, email=found.email)
    if request.method == "POST" and form.is_valid():
        try:
            user, membership = invitations.invitation_accept(
                secret=secret,
                user=None,
                password=form.cleaned_data["password1"],
                actor=Actor.from_request(request),
            )
        except WrongAccount:  # the address got an account meanwhile
            return redirect(request.path)
        # An explicit backend: the same call works whichever backends are configured.
        login(request, user, backend=SIGN_IN_BACKEND)
        return _welcome(request, membership)
    status = 422 if request.method == "POST" else 200
    return _page(request, "new-account", status=status, form=form, **_context(found))


def _welcome(request: HttpRequest, membership: Membership) -> HttpResponse:
    organization = membership.organization
    messages.success(
        request,
        f"Welcome to {organization.name}: you are a {membership.get_role_display().lower()}.",
    )
    return redirect("orgs:overview", organization.slug)
