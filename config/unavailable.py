"""When the database cannot be reached (stopped, restarting, or locked past its timeout),
every request answers 503 with Retry-After instead of a 500: JSON under /api/, the app's
503 page elsewhere. The page is rendered without the request, so no context processor
touches the database, and a plain fallback stands in if even that fails."""

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config import errors

logger = logging.getLogger("tokendesk.unavailable")

# psycopg 3 and sqlite3 both surface "cannot connect", "connection lost" and "database is
# locked" as these two; data errors (bad values) are bugs and stay 500s.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"
DETAIL = "The database is unavailable right now. Retry in a moment."
FALLBACK_PAGE = (
    "<!doctype html><title>Unavailable · Tokendesk</title>"
    "<h1>Tokendesk is unavailable</h1><p>" + DETAIL + "</p>"
)


def unavailable_response(request: HttpRequest, error: BaseException | None = None) -> HttpResponse:
    logger.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        type(error).__name__ if error else "unknown",
    )
    if request.path.startswith(API_PREFIX):
        response = JsonResponse({"error": "service_unavailable", "detail": DETAIL}, status=503)
    else:
        response = HttpResponse(_page(), status=503)
        if request.headers.get("HX-Request"):
            # An HTMX swap would put the whole page into a dialog: show it as the page.
            response["HX-Retarget"] = "body"
            response["HX-Reswap"] = "innerHTML"
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _page() -> str:
    try:
        return render_to_string("503.html", {"detail": DETAIL})
    except Exception:  # the page must never turn a 503 into a 500
        logger.exception("the 503 page failed to render")
        return FALLBACK_PAGE


class DatabaseUnavailable:
    """Turns a database outage raised by any view into the 503 answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return unavailable_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an outage raised outside a view (in a middleware) is a 503 too."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        return unavailable_response(request, error)
    return errors.server_error_page()
