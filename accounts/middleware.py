"""Session activity: the session list's "last seen", and the idle expiry.

Each signed-in session is touched at most once a minute: its UserSession row (browser,
address, last seen) is updated and the session is saved again, which pushes its expiry
SESSION_IDLE_MINUTES (SESSION_COOKIE_AGE) ahead. A session left alone for that long expires."""

import time
from contextlib import suppress

from allauth.usersessions.models import UserSession
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest

TOUCH_EVERY_SECONDS = 60
SEEN_KEY = "tokendesk_seen_at"


class SessionActivity:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # On an outage the view meets it too and answers 503 (config.unavailable).
        with suppress(OperationalError, InterfaceError):
            touch(request)
        return self.get_response(request)


def touch(request: HttpRequest) -> None:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if session is not None and session.session_key and user is not None and user.is_authenticated:
        now = time.time()
        if now - session.get(SEEN_KEY, 0) >= TOUCH_EVERY_SECONDS:
            session[SEEN_KEY] = now
            UserSession.objects.create_from_request(request, user=user, session=session)
