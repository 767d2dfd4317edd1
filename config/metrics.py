"""Operational faces, beside /healthz and /readyz: Prometheus metrics at /metrics and one
JSON log line per request. Both are off unless a setting turns them on (settings.py).

Metrics: token verifications by outcome and their latency (counted from the tokens app's
token_verified signal), requests by route template and status, and the job queue
(events/metrics.py). The receiver connects when
the URLconf imports this module, before any request is verified. Under gunicorn each worker
counts in its own memory; with PROMETHEUS_MULTIPROC_DIR set (before the workers start) they
write to files there and /metrics adds them up (gunicorn.conf.py clears a dead worker's
gauges)."""

import hmac
import json
import logging
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from events.metrics import JobQueueCollector
from tokens.credential import Credential
from tokens.signals import token_verified

logger = logging.getLogger("tokendesk.requests")

# Every reason token_verify can give, so each series exists (at 0) from the first scrape.
OUTCOMES = (
    "valid",
    "malformed",
    "bad_checksum",
    "unknown",
    "revoked",
    "expired",
    "rotated",
    "inactive_user",
    "ip_not_allowed",
)
VERIFICATIONS = Counter(
    "tokendesk_token_verifications",
    "Token verifications by outcome.",
    ["outcome"],
)
VERIFY_SECONDS = Histogram(
    "tokendesk_token_verify_seconds",
    "Time to verify a presented token (parse, digest, lookup, last-use bookkeeping).",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
for _outcome in OUTCOMES:
    VERIFICATIONS.labels(_outcome)

REQUESTS = Counter(
    "tokendesk_http_requests",
    "HTTP requests by route template, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "tokendesk_http_request_seconds",
    "Time from the first middleware to the response, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
UNMATCHED = "<unmatched>"


@receiver(token_verified)
def count_verification(sender, *, outcome: str, seconds: float, **kwargs) -> None:
    if settings.METRICS_ENABLED:
        VERIFICATIONS.labels(outcome).inc()
        VERIFY_SECONDS.observe(seconds)


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered ("api/v1/orgs/<org>/audit"), never the path: paths carry
    ids and slugs (unbounded label values) and, once in a while, a pasted token."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else UNMATCHED


class RequestObservability:
    """Counts and times every request, and writes its JSON log line, as the settings say."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.metrics = settings.METRICS_ENABLED
        self.log = settings.LOG_REQUESTS_JSON
        if not (self.metrics or self.log):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = route_of(request)
        if self.metrics:
            REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            REQUEST_SECONDS.labels(route).observe(seconds)
        if self.log:
            credential = getattr(request, "auth", None)
            line = {
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
                "token_id": credential.id if isinstance(credential, Credential) else None,
            }
            logger.info(json.dumps(line, separators=(",", ":")))
        return response


def _authorized(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    if not expected:
        return True
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected)


# Read from the database at each scrape, so kept out of the default registry (which tests
# and the multiprocess collector read without one).
_JOB_QUEUE = CollectorRegistry(auto_describe=False)
_JOB_QUEUE.register(JobQueueCollector())


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404
    if not _authorized(request):
        response = HttpResponse("A bearer token (METRICS_TOKEN) is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(_registry()) + generate_latest(_JOB_QUEUE)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
