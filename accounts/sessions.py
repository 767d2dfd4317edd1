"""Signed-in sessions: who is signed in where, and ending them."""

from allauth.usersessions.models import UserSession
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


def sessions_of(user: AbstractBaseUser) -> list[UserSession]:
    """The user's live sessions, newest activity first (ended or expired ones are dropped)."""
    live = UserSession.objects.purge_and_list(user)
    return sorted(live, key=lambda session: session.last_seen_at, reverse=True)


def end_other_sessions(request: HttpRequest, user: AbstractBaseUser) -> int:
    """Sign the user out everywhere but this browser; how many sessions ended."""
    current = request.session.session_key
    others = UserSession.objects.filter(user_id=user.pk).exclude(session_key=current)
    ended = 0
    for session in others:
        session.end()
        ended += 1
    return ended


def end_sessions_on_sign_out(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """Signing out ends every session of the account, not only this browser's."""
    if request is None or user is None:
        return
    end_other_sessions(request, user)
    UserSession.objects.filter(session_key=request.session.session_key).delete()


def end_other_sessions_on_password_change(sender, request: HttpRequest, user, **kwargs) -> None:
    """A new password ends every other session (a stolen session does not outlive it)."""
    end_other_sessions(request, user)
