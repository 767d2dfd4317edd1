"""Webhook settings of an organization (owners and super admins; anyone else gets 404) and
the audit log's streaming export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.reauthentication import reauthentication_required
from events import export, services
from events.forms import EndpointEditForm, EndpointForm
from events.models import Delivery, Endpoint
from lib.errors import RuleError
from lib.ui import HtmxHttpRequest, render_dialog
from orgs import access
from orgs.audit import Actor
from orgs.forms import AuditFilterForm

WEBHOOKS_PAGE = "events/webhooks.html"
ENDPOINT_PAGE = "events/endpoint.html"
DELIVERIES_SHOWN = 50


def _endpoint_or_404(membership, endpoint_id: int) -> Endpoint:
    return get_object_or_404(
        Endpoint.objects.filter(organization=membership.organization), pk=endpoint_id
    )


def _list_context(membership, **context) -> dict:
    return {
        "organization": membership.organization,
        "membership": membership,
        "is_admin": True,
        "endpoints": Endpoint.objects.filter(organization=membership.organization),
        **context,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required  # adding an endpoint mints a signing secret
def webhooks(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    if request.method == "GET":
        return render(request, WEBHOOKS_PAGE, _list_context(membership, form=EndpointForm()))
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            _endpoint, secret = services.endpoint_create(
                organization=membership.organization,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                actor=Actor.from_request(request),
            )
        except RuleError as error:
            form.add_error(error.field, str(error))
        else:
            return render_dialog(
                request,
                WEBHOOKS_PAGE,
                "secret-shown",
                lambda: _list_context(membership, form=EndpointForm()),
                back=request.path,
                status=201,
                organization=membership.organization,
                secret=secret,
            )
    return render(request, WEBHOOKS_PAGE, _list_context(membership, form=form), status=422)


def _edit_form(endpoint: Endpoint) -> EndpointEditForm:
    return EndpointEditForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
    )


def _endpoint_context(membership, endpoint: Endpoint, form) -> dict:
    return {
        "organization": membership.organization,
        "membership": membership,
        "is_admin": True,
        "endpoint": endpoint,
        "form": form,
        "deliveries": endpoint.deliveries.all()[:DELIVERIES_SHOWN],
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def endpoint_detail(request: HtmxHttpRequest, org: str, endpoint_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    endpoint = _endpoint_or_404(membership, endpoint_id)
    if request.method == "GET":
        form = _edit_form(endpoint)
        return render(request, ENDPOINT_PAGE, _endpoint_context(membership, endpoint, form))
    form = EndpointEditForm(request.POST)
    if form.is_valid():
        try:
            services.endpoint_update(
                endpoint=endpoint,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                is_active=form.cleaned_data["is_active"],
                actor=Actor.from_request(request),
            )
        except RuleError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, "Endpoint saved.")
            return redirect(request.path)
    endpoint.refresh_from_db()
    context = _endpoint_context(membership, endpoint, form)
    return render(request, ENDPOINT_PAGE, context, status=422)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HtmxHttpRequest, org: str, endpoint_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    endpoint = _endpoint_or_404(membership, endpoint_id)
    if request.method == "GET":
        return render_dialog(
            request,
            ENDPOINT_PAGE,
            "endpoint-delete",
            lambda: _endpoint_context(membership, endpoint, _edit_form(endpoint)),
            back=reverse("events:endpoint", args=[org, endpoint.pk]),
            organization=membership.organization,
            endpoint=endpoint,
        )
    services.endpoint_delete(endpoint=endpoint, actor=Actor.from_request(request))
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    back = reverse("events:webhooks", args=[org])
    # The confirmation's form posts with HTMX too: send the whole window back to the list.
    return HttpResponseClientRedirect(back) if request.htmx else redirect(back)


@never_cache
@login_required
@require_POST
def endpoint_test(request: HtmxHttpRequest, org: str, endpoint_id: int) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    endpoint = _endpoint_or_404(membership, endpoint_id)
    services.send_test_event(endpoint=endpoint)
    messages.success(request, "Test event sent: its delivery is listed below.")
    return redirect("events:endpoint", org, endpoint.pk)


@never_cache
@login_required
@require_POST
def delivery_redeliver(
    request: HtmxHttpRequest, org: str, endpoint_id: int, delivery_id: int
) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    endpoint = _endpoint_or_404(membership, endpoint_id)
    delivery = get_object_or_404(Delivery.objects.filter(endpoint=endpoint), pk=delivery_id)
    services.redeliver(delivery=delivery)
    messages.success(request, f"Event {delivery.event_type} redelivered.")
    return redirect("events:endpoint", org, endpoint.pk)


# Audit export ------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def audit_export(request: HtmxHttpRequest, org: str) -> HttpResponse:
    membership = access.admin_membership_or_404(request, org)
    form = AuditFilterForm(request.GET)
    fmt = request.GET.get("format", "ndjson")
    if fmt not in export.FORMATS:
        form.is_valid()
        form.add_error(None, "format must be ndjson or csv.")
    if not form.is_valid():
        fields = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        detail = "The export's filters are not valid."
        return JsonResponse(
            {"error": "invalid_filter", "detail": detail, "fields": fields}, status=422
        )
    return export.stream(membership.organization, form.filters(), fmt)
