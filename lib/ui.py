"""The dialog pattern every page shares: with HTMX a view answers the named partial it
swaps; without JavaScript it answers the whole page with that partial rendered open in its
dialog slot (`dialog` in base.html), or a redirect."""

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A dashboard request: HtmxMiddleware sets `htmx` (truthy when HTMX sent it). Views
    annotate their request with it."""

    htmx: HtmxDetails


def render_dialog(
    request: HtmxHttpRequest,
    page: str,
    partial: str,
    page_context: Callable[[], dict],
    *,
    back: str,
    status: int = 200,
    **context,
) -> HttpResponse:
    """The dialog `partial` of `page`. `back` is the page's own URL: where Cancel and Close
    go without JavaScript ({% dialog %} uses it); its forms post to this request's URL."""
    context["back"] = back
    if request.htmx:
        return render(request, f"{page}#{partial}", context, status=status)
    full = {**page_context(), **context}
    full["dialog"] = render_to_string(f"{page}#{partial}", full, request=request)
    return render(request, page, full, status=status)


def finish(request: HtmxHttpRequest, text: str, *, redirect_to: str, event: str) -> HttpResponse:
    """After a change: HTMX closes the dialog, shows the message and fires `event` so the
    table refreshes; without JavaScript, redirect back with the message."""
    messages.success(request, text)
    if request.htmx:
        response = render(request, "base.html#messages", {"oob": True})
        return trigger_client_event(response, event)
    return redirect(redirect_to)


def refuse(
    request: HtmxHttpRequest, text: str, *, redirect_to: str, status: int = 409
) -> HttpResponse:
    """A rule said no (e.g. the last owner): show why, change nothing."""
    messages.error(request, text)
    if request.htmx:
        return render(request, "base.html#messages", {"oob": True}, status=status)
    return redirect(redirect_to)


PAGE_SIZE = 50


def page_of(
    request: HtmxHttpRequest, queryset, *, per_page: int = PAGE_SIZE, param: str = "page"
) -> Page:
    """One page of a list (`?page=N`; name `param` for each list when a page has several): a
    COUNT and a LIMIT query, whatever the list's size."""
    return Paginator(queryset, per_page).get_page(request.GET.get(param))
