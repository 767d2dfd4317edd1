"""Turns an organization's two-factor or single sign-on requirement, raised by
access.membership_or_404 in any of its pages, into the page that asks the member to enrol or
to sign in with the provider."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from orgs.access import SsoRequired, TwoFactorRequired


class SignInRequirementRedirect:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, TwoFactorRequired):
            url = reverse("orgs:two-factor-required", args=[exception.organization.slug])
        elif isinstance(exception, SsoRequired):
            url = reverse("orgs:sso-required", args=[exception.organization.slug])
        else:
            return None
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)
