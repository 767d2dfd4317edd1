"""A token's page (who uses it) and Narrow permissions, the same for every kind: the page's
own view finds the token through its scoped lookup (404 otherwise) and says where the page
lives; these call the domain and render."""

from dataclasses import dataclass, field

from django.http import HttpResponse
from django.shortcuts import render

from lib.errors import RuleError
from lib.ui import HtmxHttpRequest, finish, refuse, render_dialog
from orgs.audit import Actor
from tokens import permissions as perms
from tokens.models import Token
from tokens.services import token_narrow
from tokens.usage import MIN_USAGE_DAYS, usage_of

PAGE = "tokens/detail.html"
NARROWED = "tokenNarrowed"


@dataclass(frozen=True)
class Place:
    """Where a token's page lives: its URL, its Narrow URL, the table it belongs to, and
    what the page around it needs (the organization's tabs)."""

    here: str
    narrow: str
    back: str
    back_label: str
    extra: dict = field(default_factory=dict)


def _context(token: Token, place: Place) -> dict:
    return {
        "token": token,
        "usage": usage_of(token),
        "here": place.here,
        "narrow_url": place.narrow,
        "list_url": place.back,
        "back_label": place.back_label,
        "min_days": MIN_USAGE_DAYS,
        **place.extra,
    }


def detail(request: HtmxHttpRequest, token: Token, place: Place) -> HttpResponse:
    template = f"{PAGE}#usage" if request.htmx else PAGE
    return render(request, template, _context(token, place))


def narrow(request: HtmxHttpRequest, token: Token, place: Place) -> HttpResponse:
    if request.method == "GET":
        usage = usage_of(token)
        if usage.suggestion is None:
            return refuse(
                request,
                f"Nothing to narrow: the token needs {MIN_USAGE_DAYS} days of use, "
                "and permissions it never used.",
                redirect_to=place.here,
            )
        return render_dialog(
            request,
            PAGE,
            "confirm-narrow",
            lambda: _context(token, place),
            back=place.here,
            token=token,
            keep=perms.ordered(usage.suggestion),
            removed=usage.removable,
        )
    try:
        chosen = perms.normalize(request.POST.getlist("permissions"))
    except perms.UnknownPermission as error:
        return refuse(request, str(error), redirect_to=place.here, status=422)
    try:
        narrowed = token_narrow(token=token, permissions=chosen, actor=Actor.from_request(request))
    except RuleError as error:
        return refuse(request, error.message, redirect_to=place.here, status=409)
    kept = ", ".join(narrowed.permissions)
    text = f"“{token.name}” now has only: {kept}. Its secret is unchanged."
    return finish(request, text, redirect_to=place.here, event=NARROWED)
