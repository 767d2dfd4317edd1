"""The error pages (templates/400.html, 403.html, 404.html, 500.html) in the app's layout.
An error page must never fail in turn: if the template cannot render (a missing static
manifest, the database gone while the navigation is built), a plain page with the same
heading and a way back answers instead, with the same status."""

import logging

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape

logger = logging.getLogger("tokendesk.errors")

FALLBACK_PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title} · Tokendesk</title><main><h1>{title}</h1>"
    '<p><a href="/">Go to the dashboard</a></p></main></html>'
)


def error_page(request: HttpRequest | None, template: str, status: int, title: str) -> HttpResponse:
    """`request` None: rendered without it (no user, no navigation, no database)."""
    try:
        html = render_to_string(template, {}, request=request)
    except Exception:  # the error page must not become another error
        logger.exception("the %s page failed to render", status)
        html = FALLBACK_PAGE.format(title=escape(title))
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, "400.html", 400, "Bad request")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, "403.html", 403, "Not allowed")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, "404.html", 404, "Page not found")


def server_error_page() -> HttpResponse:
    return error_page(None, "500.html", 500, "Something went wrong")
