"""Re-authentication ("sudo mode") before actions that mint or widen access.

A view decorated with `reauthentication_required` runs its POST only when the session signed
in (password or 2FA, at sign-in or at a re-authentication) within REAUTHENTICATION_MINUTES.
Otherwise the POST is stashed in the session under a one-time id and the person is asked to
confirm who they are: with HTMX in a dialog, without JavaScript on a page. Once confirmed,
the stashed POST is replayed through the original view, so the form is not typed again."""

import secrets
import time
from collections.abc import Callable
from functools import wraps

from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse

STASH_SESSION_KEY = "tokendesk_reauth_stash"
SIGNED_IN_AT_KEY = "tokendesk_signed_in_at"
STASH_SECONDS = 15 * 60
MAX_STASHED = 5
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PAGE = "accounts/reauthenticate.html"


def last_authenticated_at(request: HttpRequest) -> float | None:
    """When this session last proved who it is (sign-in or re-authentication), or None."""
    records = get_authentication_records(request, request.user)
    times = [record["at"] for record in records if isinstance(record.get("at"), int | float)]
    signed_in_at = request.session.get(SIGNED_IN_AT_KEY)
    if isinstance(signed_in_at, int | float):
        times.append(signed_in_at)
    return max(times, default=None)


def note_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """Every completed sign-in counts (allauth's, with 2FA when enrolled, and /admin/'s)."""
    from accounts.middleware import SEEN_KEY

    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_KEY] = request.session[SEEN_KEY] = time.time()


def recently_authenticated(request: HttpRequest) -> bool:
    at = last_authenticated_at(request)
    return at is not None and time.time() - at < settings.REAUTHENTICATION_MINUTES * 60


def reauthentication_required(view: Callable) -> Callable:
    """Guard a view's writes (not its GET, which only shows the form) with sudo mode."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if (
            request.method in SAFE_METHODS
            or not request.user.is_authenticated
            or getattr(request, "reauthenticated_for_replay", False)
            or recently_authenticated(request)
        ):
            return view(request, *args, **kwargs)
        stash_id = stash(request)
        if request.htmx:
            # 401: htmx swaps it (base.html's htmx-config), and a form that resets itself on
            # a refusal (the inline role select) shows the saved value until it is done.
            return ask_in_dialog(request, stash_id, status=401)
        return redirect("accounts:reauthenticate", stash_id=stash_id)

    guarded.requires_reauthentication = True
    return guarded


def stash(request: HttpRequest) -> str:
    """Keep this POST in the session under a new one-time id (only the latest few)."""
    now = time.time()
    stashed = {
        stash_id: entry
        for stash_id, entry in request.session.get(STASH_SESSION_KEY, {}).items()
        if now - entry["at"] < STASH_SECONDS
    }
    for old in sorted(stashed, key=lambda key: stashed[key]["at"])[: -MAX_STASHED + 1]:
        del stashed[old]
    stash_id = secrets.token_urlsafe(16)
    stashed[stash_id] = {"path": request.path, "post": request.POST.urlencode(), "at": now}
    request.session[STASH_SESSION_KEY] = stashed
    return stash_id


def stashed(request: HttpRequest, stash_id: str) -> dict | None:
    entry = request.session.get(STASH_SESSION_KEY, {}).get(stash_id)
    if entry is None or time.time() - entry["at"] >= STASH_SECONDS:
        return None
    return entry


def replay(request: HttpRequest, stash_id: str) -> HttpResponse | None:
    """Run the stashed POST through its view, once; None when there is none any more."""
    entries = request.session.get(STASH_SESSION_KEY, {})
    entry = stashed(request, stash_id)
    entries.pop(stash_id, None)
    request.session[STASH_SESSION_KEY] = entries
    if entry is None:
        return None
    try:
        match = resolve(entry["path"])
    except Resolver404:
        return None
    request.method = "POST"
    request.POST = QueryDict(entry["post"])
    request.path = request.path_info = entry["path"]
    request.resolver_match = match
    request.reauthenticated_for_replay = True  # even if the clock says otherwise
    return match.func(request, *match.args, **match.kwargs)


def ask_in_dialog(request: HttpRequest, stash_id: str, *, form=None, status: int = 200):
    from accounts import sso
    from accounts.forms import ReauthenticateForm

    context = {
        "form": form or ReauthenticateForm(request=request),
        "action": reverse("accounts:reauthenticate", args=[stash_id]),
        "minutes": settings.REAUTHENTICATION_MINUTES,
        "back": reverse("dashboard"),
        "sso_reauth_url": sso.reauthentication_url(request.user, stash_id),
    }
    response = render(request, f"{PAGE}#reauth-dialog", context, status=status)
    # Whatever the original form targeted, the question opens in the dialog slot.
    response["HX-Retarget"] = "#dialog-slot"
    response["HX-Reswap"] = "innerHTML"
    return response
