"""Rotate and End overlap, the same for every token page: the page's own view finds the
token through its scoped lookup and passes how to render a dialog of its page and how to
finish; these parse the form, call the service and answer."""

from collections.abc import Callable

from django.http import HttpResponse
from django.views.decorators.debug import sensitive_variables
from django_htmx.http import trigger_client_event

from lib.errors import RuleError
from lib.ui import HtmxHttpRequest, finish, refuse
from orgs.audit import Actor
from tokens.forms import RotateForm
from tokens.models import Token
from tokens.services import TokenConfigurationError, token_end_overlap, token_rotate

Dialog = Callable[..., HttpResponse]


@sensitive_variables("issued")
def rotate(
    request: HtmxHttpRequest, token: Token, *, dialog: Dialog, back: str, event: str
) -> HttpResponse:
    if request.method == "GET":
        return dialog("confirm-rotate", token=token, form=RotateForm())
    form = RotateForm(request.POST)
    if not form.is_valid():
        return dialog("confirm-rotate", status=422, token=token, form=form)
    try:
        issued = token_rotate(
            token=token,
            actor=Actor.from_request(request),
            overlap_hours=form.cleaned_data["overlap_hours"],
            until_first_use=form.cleaned_data["until_first_use"],
        )
    except TokenConfigurationError as error:
        return dialog("confirm-rotate", status=503, token=token, form=form, config_error=str(error))
    except RuleError as error:
        return refuse(request, error.message, redirect_to=back, status=409)
    # The only time the new secret is shown: the response is never cached (never_cache).
    return trigger_client_event(dialog("token-shown", issued=issued), event)


def end_overlap(
    request: HtmxHttpRequest, token: Token, *, dialog: Dialog, back: str, event: str
) -> HttpResponse:
    if request.method == "GET":
        return dialog("confirm-end-overlap", token=token)
    previous = token.previous_preview
    if token_end_overlap(token=token, actor=Actor.from_request(request)):
        text = f"The previous secret {previous} of “{token.name}” stopped working."
    else:
        text = f"“{token.name}” had no previous secret still working."
    return finish(request, text, redirect_to=back, event=event)
