"""The account's security page (2FA authenticators, signed-in sessions) and the
re-authentication that guarded actions ask for."""

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import reauthentication, sso
from accounts.forms import ReauthenticateForm
from accounts.sessions import end_other_sessions, sessions_of
from accounts.user_agents import describe_browser


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    # This browser is listed even when its session began before sessions were recorded.
    UserSession.objects.create_from_request(request)
    authenticators = list(Authenticator.objects.filter(user=request.user).order_by("created_at"))
    by_type = {kind: [a for a in authenticators if a.type == kind] for kind in Authenticator.Type}
    recovery = by_type[Authenticator.Type.RECOVERY_CODES]
    sessions = [
        {
            "session": session,
            "browser": describe_browser(session.user_agent),
            "current": session.session_key == request.session.session_key,
        }
        for session in sessions_of(request.user)
    ]
    context = {
        "totp": (by_type[Authenticator.Type.TOTP] or [None])[0],
        "keys": [key.wrap() for key in by_type[Authenticator.Type.WEBAUTHN]],
        "recovery_left": len(recovery[0].wrap().get_unused_codes()) if recovery else None,
        "sessions": sessions,
        "other_sessions": sum(1 for entry in sessions if not entry["current"]),
        "reauth_minutes": settings.REAUTHENTICATION_MINUTES,
    }
    return render(request, "accounts/security.html", context)


@never_cache
@login_required
@require_POST
def sign_out_other_sessions(request: HttpRequest) -> HttpResponse:
    ended = end_other_sessions(request, request.user)
    if ended:
        messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    else:
        messages.info(request, "There were no other sessions to sign out.")
    return redirect("security")


@never_cache
@login_required
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest, stash_id: str) -> HttpResponse:
    """Confirm who you are, then carry on with the stashed action (see reauthentication)."""
    if reauthentication.stashed(request, stash_id) is None:
        messages.error(request, "That action expired or was already done. Please try again.")
        return redirect("dashboard")
    action = reverse("accounts:reauthenticate", args=[stash_id])
    if request.method == "GET":
        form = ReauthenticateForm(request=request)
        return _ask(request, stash_id, form, action)
    form = ReauthenticateForm(request.POST, request=request)
    if not form.is_valid():
        return _ask(request, stash_id, form, action, status=422)
    if form.method == "mfa":
        form.mfa_form.save()  # records a re-authentication by 2FA
    else:
        record_authentication(request, request.user, method="password", reauthenticated=True)
    response = reauthentication.replay(request, stash_id)
    if response is None:
        messages.error(request, "That action expired or was already done. Please try again.")
        return redirect("dashboard")
    return response


@never_cache
@login_required
@require_http_methods(["GET"])
def reauthenticate_with_provider(request: HttpRequest, stash_id: str) -> HttpResponse:
    """ "Confirm with <provider>": off to the provider, back to `reauthenticated_with_provider`
    (a link, not a form: the page's CSP keeps forms on this site)."""
    if reauthentication.stashed(request, stash_id) is None or not sso.connected_account(
        request.user
    ):
        messages.error(request, "That action expired or was already done. Please try again.")
        return redirect("dashboard")
    return sso.start_reauthentication(
        request, reverse("accounts:reauthenticated-sso", args=[stash_id])
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def reauthenticated_with_provider(request: HttpRequest, stash_id: str) -> HttpResponse:
    """Back from the provider: the adapter recorded the fresh sign-in; carry on."""
    if not reauthentication.recently_authenticated(request):
        return redirect("accounts:reauthenticate", stash_id=stash_id)
    response = reauthentication.replay(request, stash_id)
    if response is None:
        messages.error(request, "That action expired or was already done. Please try again.")
        return redirect("dashboard")
    return response


def _ask(request, stash_id, form, action, *, status: int = 200) -> HttpResponse:
    if request.htmx:
        return reauthentication.ask_in_dialog(request, stash_id, form=form, status=status)
    context = {
        "form": form,
        "action": action,
        "minutes": settings.REAUTHENTICATION_MINUTES,
        "back": reverse("dashboard"),
        "sso_reauth_url": sso.reauthentication_url(request.user, stash_id),
    }
    return render(request, reauthentication.PAGE, context, status=status)
