"""Counters of token verification for /metrics (config/metrics.py): how many by outcome, and
how long each took. Recorded only when METRICS_ENABLED is on."""

from django.conf import settings
from prometheus_client import Counter, Histogram

# Every reason token_verify can give, so each series exists (at 0) from the first scrape.
OUTCOMES = ("valid", "malformed", "bad_checksum", "unknown", "revoked", "expired", "inactive_user")

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


def verified(outcome: str, seconds: float) -> None:
    if settings.METRICS_ENABLED:
        VERIFICATIONS.labels(outcome).inc()
        VERIFY_SECONDS.observe(seconds)
