"""Who uses a token: daily counters of its verified API calls (TokenUsage), what they add up
to for its page and the API, and which of its permissions were never used.

Recording stays off the verification query. Each process counts calls in memory and writes a
token's counters when its one-minute window has passed: one INSERT … ON CONFLICT DO UPDATE
(the same statement on SQLite and PostgreSQL) per token and process and minute in steady
state, whatever the request rate. A token's first call in a process is written at once. A
call also writes the counters of the other tokens whose window has passed, so a token that
goes quiet does not keep its last minute in memory; the rest is written when the process
exits (atexit, and gunicorn's worker_exit). What a process that dies hard (SIGKILL, OOM) had
counted, at most its last minute, is lost: counters are bookkeeping, never a reason to fail
or slow a request, so a write that fails is logged and dropped, as last_used_at's is."""

import atexit
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from tokens import permissions as perms
from tokens.models import USAGE_KEY_FIELDS, TokenUsage

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = timedelta(minutes=1)
# A process keeps at most this many distinct counters before writing them all.
MAX_PENDING = 10_000
# Usage younger than this does not justify narrowing a token's permissions.
MIN_USAGE_DAYS = 7
CHART_DAYS = 30
RECENT_ADDRESSES = 5

_field = TokenUsage._meta.get_field
ROUTE_MAX = _field("route").max_length
AGENT_MAX = _field("agent").max_length
PROJECT_MAX = _field("project").max_length


# What a call was (pure) ----------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


@lru_cache(maxsize=256)  # the API's few routes
def route_template(pattern: str) -> str:
    """Django's URL pattern ("api/v1/orgs/<org>/projects/<project>/deployments", or
    "<int:id>" with a converter) spelled as the API documents it: "/api/v1/orgs/{org}/…"."""
    return ("/" + _CONVERTER.sub(r"{\1}", pattern.lstrip("/")))[:ROUTE_MAX]


# (lowercase prefix of the User-Agent, family). The CLI keeps major.minor of its version.
_AGENTS = (
    ("curl/", "curl"),
    ("wget/", "wget"),
    ("python-requests/", "python-requests"),
    ("python-httpx/", "python-httpx"),
    ("python-urllib/", "python-urllib"),
    ("go-http-client/", "go-http-client"),
    ("node-fetch/", "node-fetch"),
    ("node", "node"),
    ("mozilla/", "browser"),
    ("opera/", "browser"),
)
_CLI = re.compile(r"^(tokendesk-[a-z]+)/(\d{1,4})(?:\.(\d{1,4}))?(?!\d)", re.IGNORECASE)


@lru_cache(maxsize=1024)  # most calls come from a handful of agents
def agent_family(user_agent: str) -> str:
    """A short, bounded name for what made the call, never the raw header: the Tokendesk
    CLI and action with their major.minor version ("tokendesk-cli/0.2"), else a family."""
    agent = (user_agent or "").strip()
    match = _CLI.match(agent)
    if match:
        name, major, minor = match.groups()
        version = f"{major}.{minor}" if minor is not None else major
        return f"{name.lower()}/{version}"[:AGENT_MAX]
    lowered = agent.lower()
    return next((family for prefix, family in _AGENTS if lowered.startswith(prefix)), "other")


class Call(NamedTuple):
    """One counter's key, as the row says it (a tuple: cheap to build and hash per call)."""

    token_id: int
    day: date
    method: str
    route: str
    address: str
    agent: str
    permission: str
    granted: bool
    status_class: int
    project: str


# The per-process buffer ----------------------------------------------------------------------


@dataclass
class _Counter:
    calls: int
    first_seen: datetime
    last_seen: datetime


@dataclass
class UsageBuffer:
    """Counters not yet written, per token, and when each token may next be written."""

    interval: timedelta = FLUSH_INTERVAL
    pending: dict[int, dict[Call, _Counter]] = field(default_factory=dict)
    due: dict[int, datetime] = field(default_factory=dict)
    sweep_at: datetime | None = None
    size: int = 0  # counters pending, all tokens
    # For make bench: statements written and counters they carried, since the start.
    writes: int = 0
    rows: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, call: Call, now: datetime) -> list[tuple[Call, _Counter]]:
        """Count `call`; answer the counters to write now (often none)."""
        with self.lock:
            counters = self.pending.setdefault(call.token_id, {})
            counter = counters.get(call)
            if counter is None:
                counters[call] = _Counter(1, now, now)
                self.size += 1
            else:
                counter.calls += 1
                counter.last_seen = now
            if self.size > MAX_PENDING:
                return self._take(list(self.pending), now)
            tokens = []
            due = self.due.get(call.token_id)
            if due is None or now >= due:
                tokens.append(call.token_id)
            if self.sweep_at is None or now >= self.sweep_at:
                self.sweep_at = now + self.interval
                tokens += [
                    token_id
                    for token_id in self.pending
                    if token_id != call.token_id and self.due.get(token_id, now) <= now
                ]
                # Forget the windows that have passed with nothing pending: a long-lived
                # process keeps only the tokens of its last minute.
                for token_id in [t for t, d in self.due.items() if d <= now]:
                    if token_id not in self.pending:
                        del self.due[token_id]
            return self._take(tokens, now)

    def take(self, token_ids: Iterable[int] | None = None) -> list[tuple[Call, _Counter]]:
        """Everything pending (for `token_ids`, or all), whatever the windows say."""
        with self.lock:
            chosen = list(self.pending) if token_ids is None else list(token_ids)
            return self._take(chosen, None)

    def _take(self, token_ids: list[int], now: datetime | None) -> list[tuple[Call, _Counter]]:
        taken = []
        for token_id in token_ids:
            taken += self.pending.pop(token_id, {}).items()
            if now is not None:
                self.due[token_id] = now + self.interval
        self.size -= len(taken)
        return taken

    def clear(self) -> None:
        with self.lock:
            self.pending.clear()
            self.due.clear()
            self.sweep_at = None
            self.size = self.writes = self.rows = 0


BUFFER = UsageBuffer()

_COLUMNS = tuple(TokenUsage._meta.get_field(name).column for name in USAGE_KEY_FIELDS)


def _upsert_sql(rows: int) -> str:
    meta = TokenUsage._meta
    table = connection.ops.quote_name(meta.db_table)
    key = ", ".join(_COLUMNS)
    values = ", ".join(["(" + ", ".join(["%s"] * (len(_COLUMNS) + 3)) + ")"] * rows)
    # Counters add up; first and last seen widen. Only names from the model and placeholders.
    return (
        f"INSERT INTO {table} ({key}, calls, first_seen, last_seen) VALUES {values}"  # noqa: S608
        f" ON CONFLICT ({key}) DO UPDATE SET calls = {table}.calls + excluded.calls,"
        f" first_seen = CASE WHEN excluded.first_seen < {table}.first_seen"
        f" THEN excluded.first_seen ELSE {table}.first_seen END,"
        f" last_seen = CASE WHEN excluded.last_seen > {table}.last_seen"
        f" THEN excluded.last_seen ELSE {table}.last_seen END"
    )


def _write(counters: list[tuple[Call, _Counter]]) -> bool:
    """One statement, in its own transaction (a savepoint inside a caller's), never raising."""
    if not counters:
        return True
    ops = connection.ops
    params: list = []
    for call, counter in counters:
        params += [
            call.token_id,
            ops.adapt_datefield_value(call.day),
            call.method,
            call.route,
            call.address,
            call.agent,
            call.permission,
            call.granted,
            call.status_class,
            call.project,
            counter.calls,
            ops.adapt_datetimefield_value(counter.first_seen),
            ops.adapt_datetimefield_value(counter.last_seen),
        ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_upsert_sql(len(counters)), params)
    except DatabaseError as error:
        # Token ids and counts only: never addresses or agents in this log line.
        tokens = sorted({call.token_id for call, _ in counters})
        logger.warning("skipped usage counters of tokens %s: %s", tokens, error)
        return False
    BUFFER.writes += 1
    BUFFER.rows += len(counters)
    return True


def record(call: Call, *, now: datetime | None = None) -> None:
    """Count one call; write what is due (this token's window passed, or other tokens')."""
    _write(BUFFER.add(call, now or timezone.now()))


def flush(token_ids: Iterable[int] | None = None) -> bool:
    """Write what this process holds (for `token_ids`, or all): before a page or the API
    shows a token's usage, and when the process exits."""
    return _write(BUFFER.take(token_ids))


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # the interpreter is going away; never make that fail
        logger.warning("usage counters lost at exit", exc_info=True)


atexit.register(_flush_at_exit)


# Reading it back ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    name: str
    calls: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class RouteCalls:
    method: str
    route: str
    ok: int  # 2xx
    failed: int  # 4xx and 5xx
    percent: int  # of the busiest route, for the bar's width

    @property
    def calls(self) -> int:
        return self.ok + self.failed

    @property
    def width(self) -> int:
        """The bar's width in steps of 5% (app.css .bar-5 … .bar-100): no inline style."""
        return max(5, 5 * round(self.percent / 5))


@dataclass(frozen=True)
class PermissionUse:
    name: str
    granted: bool  # on the token now (directly, or implied by a write it holds)
    used: bool  # a call passed its check
    attempted: bool  # a call was refused for lacking it (403 insufficient_scope)


@dataclass(frozen=True)
class Usage:
    since: date  # the oldest day still kept
    first_day: date | None  # the oldest day with a call, within what is kept
    window_days: int  # routes, agents, projects and the totals cover these last days
    calls: int
    ok: int
    failed: int
    addresses: list[Seen]
    routes: list[RouteCalls]
    agents: list[Seen]
    projects: list[Seen]
    permissions: list[PermissionUse]
    granted: frozenset[str]
    used: frozenset[str]
    attempted: frozenset[str]
    suggestion: frozenset[str] | None  # a smaller set of permissions to narrow to

    @property
    def suggested(self) -> list[str]:
        return [] if self.suggestion is None else perms.ordered(self.suggestion)

    @property
    def removable(self) -> list[str]:
        """What narrowing to the suggestion takes away, in vocabulary order."""
        if self.suggestion is None:
            return []
        return perms.ordered(self.granted - self.suggestion)


def retention_start(today: date | None = None) -> date:
    today = today or timezone.now().date()
    return today - timedelta(days=settings.TOKENDESK_USAGE_RETENTION_DAYS - 1)


def used_permissions(token) -> tuple[frozenset[str], frozenset[str], date | None]:
    """(used, attempted, first day) from what is kept: a permission is used when a call
    passed its check, attempted when a call was refused for lacking it."""
    rows = (
        TokenUsage.objects.filter(token_id=token.pk, day__gte=retention_start())
        .values("permission", "granted")
        .annotate(first=Min("day"))
    )
    used, attempted, first_day = set(), set(), None
    for row in rows:
        first_day = row["first"] if first_day is None else min(first_day, row["first"])
        if not row["permission"]:
            continue
        (used if row["granted"] else attempted).add(row["permission"])
    return frozenset(used), frozenset(attempted), first_day


def narrowed(granted: Iterable[str], used: Iterable[str]) -> frozenset[str]:
    """The granted permissions that were used, themselves or through what they imply: a
    write whose read was used stays (never suggest removing what a seen call needed)."""
    used = frozenset(used)
    return frozenset(p for p in granted if perms.effective({p}) & used)


def suggestion_for(
    granted: Iterable[str], used: frozenset[str], first_day: date | None, *, today: date
) -> frozenset[str] | None:
    """The smaller set to narrow to, once the token was used for MIN_USAGE_DAYS days and
    some permission never was; None otherwise."""
    granted = frozenset(granted)
    if first_day is None or (today - first_day).days < MIN_USAGE_DAYS:
        return None
    smaller = narrowed(granted, used)
    if not smaller or smaller == granted:
        return None
    return smaller


def _seen(rows, name: str) -> list[Seen]:
    return [Seen(row[name], row["calls"], row["first_seen"], row["last_seen"]) for row in rows]


def usage_of(token, *, today: date | None = None) -> Usage:
    """What the page and GET /api/v1/tokens/{id}/usage show (five queries)."""
    flush([token.pk])
    today = today or timezone.now().date()
    since = retention_start(today)
    kept = TokenUsage.objects.filter(token_id=token.pk, day__gte=since)
    recent = kept.filter(day__gt=today - timedelta(days=CHART_DAYS))
    totals = {"calls": Sum("calls"), "first_seen": Min("first_seen"), "last_seen": Max("last_seen")}
    addresses = _seen(
        kept.values("address")
        .annotate(**totals)
        .order_by("-last_seen", "address")[:RECENT_ADDRESSES],
        "address",
    )
    by_route: dict[tuple[str, str], list[int]] = {}
    for row in recent.values("method", "route", "status_class").annotate(calls=Sum("calls")):
        counts = by_route.setdefault((row["method"], row["route"]), [0, 0])
        counts[0 if row["status_class"] == 2 else 1] += row["calls"]
    busiest = max((ok + failed for ok, failed in by_route.values()), default=0)
    routes = sorted(
        (
            RouteCalls(method, route, ok, failed, round(100 * (ok + failed) / busiest))
            for (method, route), (ok, failed) in by_route.items()
        ),
        key=lambda r: (-r.calls, r.route, r.method),
    )
    agents = _seen(recent.values("agent").annotate(**totals).order_by("-calls", "agent"), "agent")
    projects = _seen(
        recent.exclude(project="").values("project").annotate(**totals).order_by("project"),
        "project",
    )
    used, attempted, first_day = used_permissions(token)
    granted = frozenset(token.permissions)
    effective = perms.effective(granted)
    permissions = [
        PermissionUse(name, name in effective, name in used, name in attempted)
        for name in perms.ordered(effective | used | attempted)
    ]
    suggestion = None
    if token.revoked_at is None:
        suggestion = suggestion_for(granted, used, first_day, today=today)
    return Usage(
        since=since,
        first_day=first_day,
        window_days=CHART_DAYS,
        calls=sum(r.calls for r in routes),
        ok=sum(r.ok for r in routes),
        failed=sum(r.failed for r in routes),
        addresses=addresses,
        routes=routes,
        agents=agents,
        projects=projects,
        permissions=permissions,
        granted=granted,
        used=used,
        attempted=attempted,
        suggestion=suggestion,
    )


def purge(*, today: date | None = None) -> int:
    """Delete the counters older than TOKENDESK_USAGE_RETENTION_DAYS: idempotent, safe with
    several workers running it at once."""
    deleted, _ = TokenUsage.objects.filter(day__lt=retention_start(today)).delete()
    return deleted
