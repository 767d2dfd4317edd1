"""Measurements inside this process (Django set up with bench.settings, no HTTP)."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_api_key.permissions import HasAPIKey

from accounts.models import User
from bench import names
from bench.seed import Seeded
from orgs.audit import Actor
from tokens import format as token_format
from tokens.api.core import BearerTokenAuth, InvalidTokenError
from tokens.lookup import credential_by_digest
from tokens.models import Token
from tokens.services import hash_salt, token_issue, token_rotate, tokens_revoke_all

VERIFY_REPEATS = 5
VERIFY_SLICE_SECONDS = 0.12
VERIFY_MAX_CALLS = 100_000
PAGE_REPEATS = 9
PAGE_BUDGET_SECONDS = 15.0
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@dataclass
class VerifyResult:
    scheme: str
    case: str
    per_second: float
    us_per_call: float  # best of VERIFY_REPEATS slices
    median_us: float
    queries: int
    accepted: bool

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _time_slice(call: Callable[[], object], seconds: float) -> float:
    """Microseconds per call over one slice of about `seconds`."""
    calls, start = 0, time.perf_counter()
    deadline = start + seconds
    while calls < VERIFY_MAX_CALLS:
        call()
        calls += 1
        if time.perf_counter() >= deadline:
            break
    return (time.perf_counter() - start) / calls * 1e6


def _timings(calls: dict[str, Callable[[], object]]) -> dict[str, dict]:
    """Each call timed in VERIFY_REPEATS slices, the calls interleaved so that other load on
    the machine hits all of them alike; the best slice is the figure (as timeit does)."""
    for call in calls.values():
        for _ in range(50):
            call()
    slices: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(VERIFY_REPEATS):
        for name, call in calls.items():
            slices[name].append(_time_slice(call, VERIFY_SLICE_SECONDS))
    return {
        name: {"best_us": min(values), "median_us": statistics.median(values)}
        for name, values in slices.items()
    }


def _queries(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def _accepting(function: Callable[[], object], rejected: tuple[type[Exception], ...]):
    """A call that answers whether the credential was accepted."""

    def call() -> bool:
        try:
            return bool(function())
        except rejected:
            return False

    return call


def _alter_secret(token: str) -> str:
    """Same shape, another secret, a correct checksum: well-formed but unknown."""
    return token_format.generate(token.split("_")[1], token.split("_")[0])


def _bad_checksum(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def _rotated(plaintext: str) -> tuple[str, str]:
    """A token of the whoami token's user, rotated with a week's overlap: (previous secret,
    new secret). Either is verified by the same one query (digest OR previous_digest)."""
    owner = Token.objects.get(digest=token_format.digest(plaintext, hash_salt())).user
    issued = token_issue(
        kind=Token.Kind.PERSONAL,
        user=owner,
        name=f"rotated {time.time_ns()}",
        permissions=frozenset({"tokens:read"}),
        actor=Actor(user=owner),
    )
    rotated = token_rotate(token=issued.token, actor=Actor(user=owner), overlap_hours=168)
    return issued.plaintext, rotated.plaintext


def verify_rates(seeded: Seeded) -> list[VerifyResult]:
    factory = RequestFactory()

    def django_request(authorization: str):
        return factory.get("/", HTTP_AUTHORIZATION=authorization, REMOTE_ADDR="127.0.0.1")

    def drf_request(authorization: str):
        return Request(django_request(authorization))

    tokendesk = BearerTokenAuth()
    drf, knox, api_key = TokenAuthentication(), KnoxTokenAuthentication(), HasAPIKey()
    plaintext = seeded.tokendesk_whoami
    cases: list[tuple[str, str, Callable[[], bool], bool]] = []

    def tokendesk_case(case: str, token: str, valid: bool) -> None:
        request = django_request(f"Bearer {token}")
        call = _accepting(lambda: tokendesk(request), (InvalidTokenError,))
        cases.append(("tokendesk", case, call, valid))

    tokendesk_case("valid", plaintext, True)
    previous, current = _rotated(plaintext)
    tokendesk_case("valid, rotated: previous secret (overlap)", previous, True)
    tokendesk_case("valid, rotated: new secret", current, True)
    tokendesk_case("malformed", "tdk_pat_not-a-token", False)
    tokendesk_case("bad checksum", _bad_checksum(plaintext), False)
    tokendesk_case("unknown, well-formed", _alter_secret(plaintext), False)

    def drf_case(scheme, case, authenticator, header, valid):
        request = drf_request(header)
        call = _accepting(lambda: authenticator.authenticate(request), (AuthenticationFailed,))
        cases.append((scheme, case, call, valid))

    drf_case("drf", "valid", drf, f"Token {seeded.drf}", True)
    drf_case("drf", "unknown", drf, f"Token {'0' * 40}", False)
    drf_case("knox", "valid", knox, f"Token {seeded.knox}", True)
    drf_case("knox", "unknown", knox, f"Token {'0' * 64}", False)
    for case, key, valid in (
        ("valid", seeded.api_key, True),
        ("unknown", "AAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", False),
    ):
        request = drf_request(f"Api-Key {key}")
        cases.append(
            ("api-key", case, lambda request=request: api_key.has_permission(request, None), valid)
        )

    # Reference points for the lead: the hash alone, and Tokendesk's lookup as raw SQL.
    salt = hash_salt()
    cases.append(
        (
            "reference",
            "HMAC-SHA256 digest only",
            lambda: bool(token_format.digest(plaintext, salt)),
            True,
        )
    )
    digest = token_format.digest(plaintext, salt)
    query = (
        Token.objects.select_related("user", "organization", "project")
        .filter(digest=digest)
        .order_by()
        .query
    )
    sql, params = query.sql_with_params()

    def raw_lookup() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() is not None

    cases.append(("reference", "same lookup as one raw SQL", raw_lookup, True))
    # Tokendesk's lookup statement alone (tokens/lookup.py), as a prepared statement and not
    # (the same on SQLite, where there is nothing to prepare).
    for prepare in (True, False):
        cases.append(
            (
                "reference",
                f"Credential lookup alone, {'prepared' if prepare else 'not prepared'}",
                lambda prepare=prepare: credential_by_digest([digest], prepare=prepare) is not None,
                True,
            )
        )

    queries = {}
    for scheme, case, call, valid in cases:
        call()  # a first call may write last_used_at (once a minute); count the steady state
        accepted = call()
        if accepted != valid:
            raise RuntimeError(f"{scheme} {case}: accepted={accepted}, expected {valid}")
        queries[scheme, case] = _queries(call)
    timings = _timings({f"{scheme}: {case}": call for scheme, case, call, _ in cases})
    results = []
    for scheme, case, _, valid in cases:
        timing = timings[f"{scheme}: {case}"]
        results.append(
            VerifyResult(
                scheme,
                case,
                per_second=1e6 / timing["best_us"],
                us_per_call=timing["best_us"],
                median_us=timing["median_us"],
                queries=queries[scheme, case],
                accepted=valid,
            )
        )
    return results


# last_used_at writes -----------------------------------------------------------------------


def touch_writes() -> dict[int, list[datetime]]:
    """Every write to a token's last_used_at since the seed, as the trigger logged it."""
    writes: dict[int, list[datetime]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_id, at FROM bench_touch_log ORDER BY id")
        for token_id, at in cursor.fetchall():
            if isinstance(at, str):  # SQLite's trigger logs text
                at = datetime.fromisoformat(at)
            writes.setdefault(token_id, []).append(at)
    return writes


def usage_writes() -> dict[int, list[datetime]]:
    """Every counter row the usage buffer wrote since the seed, per token, as logged."""
    writes: dict[int, list[datetime]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_id, at FROM bench_usage_log ORDER BY id")
        for token_id, at in cursor.fetchall():
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            writes.setdefault(token_id, []).append(at)
    return writes


def usage_calls() -> dict[int, int]:
    """The calls the usage counters hold, per token (every process has written its own)."""
    from django.db.models import Sum

    from tokens.models import TokenUsage

    return dict(
        TokenUsage.objects.values("token_id")
        .annotate(calls=Sum("calls"))
        .values_list("token_id", "calls")
    )


def token_ids() -> dict[str, int]:
    return dict(
        Token.objects.filter(
            name__in=[names.WHOAMI_LABEL, names.BURST_LABEL, names.DEPLOY_LABEL]
        ).values_list("name", "pk")
    )


# Pages ---------------------------------------------------------------------------------------


@dataclass
class PageResult:
    page: str
    rows_in_db: int
    url: str
    status: int
    queries: int | None
    median_ms: float | None
    renders: int
    rows_rendered: int
    kilobytes: float
    built: bool = True

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _page(page: str, rows: int, email: str, url: str | None) -> PageResult:
    if url is None:
        return PageResult(page, rows, "", 0, None, None, 0, 0, 0.0, built=False)
    client = Client()
    client.force_login(User.objects.get(email=email))
    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        response = client.get(url)
        first_ms = (time.perf_counter() - start) * 1000
    queries = len(captured.captured_queries)  # before the next request resets the log
    html = response.content.decode()
    # A slow page is rendered fewer times: at least once more, within the budget.
    timings: list[float] = []
    budget = PAGE_BUDGET_SECONDS if first_ms < 1000 else PAGE_BUDGET_SECONDS / 3
    started = time.perf_counter()
    while len(timings) < PAGE_REPEATS and (not timings or time.perf_counter() - started < budget):
        start = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
    return PageResult(
        page=page,
        rows_in_db=rows,
        url=url,
        status=response.status_code,
        queries=queries,
        median_ms=statistics.median(timings),
        renders=len(timings),
        rows_rendered=html.count("<tr") - html.count("<thead"),
        kilobytes=len(response.content) / 1024,
    )


def _reverse(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def pages(n: int) -> list[PageResult]:
    results = []
    for rows, email, org in (
        (10, names.SMALL_EMAIL, names.SMALL_ORG),
        (n, names.LARGE_EMAIL, names.LARGE_ORG),
    ):
        results.append(_page("personal tokens", rows, email, _reverse("tokens:personal")))
        results.append(_page("CI tokens", rows, email, _reverse("tokens:ci", org=org)))
        results.append(_page("audit log", rows, email, _reverse("orgs:audit", org=org)))
    return results


# Revoke-all -----------------------------------------------------------------------------------


def revoke_all() -> dict:
    user = User.objects.get(email=names.LARGE_EMAIL)
    live = Token.objects.personal_for(user).unrevoked().count()
    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        revoked = tokens_revoke_all(user=user, actor=Actor(user=user))
        seconds = time.perf_counter() - start
    statements = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].split(" ")[0] not in TRANSACTION_CONTROL
    ]
    token_updates = [s for s in statements if s.startswith("UPDATE") and "tokens_token" in s]
    return {
        "live_before": live,
        "revoked": revoked,
        "seconds": seconds,
        "statements": len(statements),
        "token_update_statements": len(token_updates),
        "other_statements": [s.split(" (")[0][:60] for s in statements if s not in token_updates],
    }
