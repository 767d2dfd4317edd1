"""`make bench-scale`: Tokendesk at a million tokens on PostgreSQL (not part of `make test`).

    .venv/bin/python bench/scale.py [--scale 1.0] [--repeats 15]

At --scale 1.0: 1,000,000 tokens across 1,000 organizations and 10,000,000 audit events, one
organization of 10,000 members. Smaller scales shrink every count but the members (the
members page is measured at 10,000 whatever the scale). Steps:

1. A throwaway PostgreSQL cluster (bench/pgcluster.py), migrated.
2. Seeding with COPY (psycopg), timed per table; then VACUUM (ANALYZE), as autovacuum would.
3. In-process measurements through Django's test client, signed in: token verification
   p50/p99; every list page (personal, CI, deployment tokens, the audit log unfiltered and
   with each filter, deploy auth, members) p50/p99 and its query count, next to the same
   page of a small organization (the query count must not grow); revoke-all of the heavy
   user's personal tokens; 1,000,000 events of the big organization's audit export
   streamed as NDJSON, with its memory peak.
4. EXPLAIN of every SELECT each page runs: which indexes it uses, and any sequential scan
   of a big table (more than 100,000 rows).

Figures go to stdout and to bench/results/scale-<UTC timestamp>.json."""

import argparse
import functools
import io
import itertools
import json
import os
import random
import secrets
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

RESULTS = ROOT / "bench" / "results"
FULL_TOKENS = 1_000_000
FULL_ORGS = 1_000
FULL_EVENTS = 10_000_000
MEMBERS = 10_000
PAGE_TARGET_MS = 50.0
REVOKE_TARGET_S = 2.0
EXPORT_EVENTS = 1_000_000  # at scale 1.0, of the big organization's 2,000,000
EXPORT_GROWTH = 0.25  # bounded: the whole export's peak within 25 % of its early peak
# A sequential scan matters on a table of more rows than this (at scale 1.0: the tokens and
# the audit events); reading a 10,000-row table whole is often the best plan.
BIG_TABLE_ROWS = 100_000
HEAVY_EMAIL = "heavy@scale.test"  # owns 10 % of the tokens as personal tokens
ADMIN_EMAIL = "admin@scale.test"  # owner of the big and the small organization
BIG_ORG, SMALL_ORG = "big", "small"
ACTIONS = ("token.create", "token.revoke", "token.regenerate", "member.add", "deployment.create")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = a million tokens")
    parser.add_argument("--repeats", type=int, default=15, help="renders per page")
    return parser.parse_args(argv)


class Copier:
    """Rows of `model` into its table with COPY … FROM STDIN, in text format, a few MB at a
    time. `add()` takes the named `columns`; every other column gets its field's default, so
    a column added by a later migration does not break the seed."""

    def __init__(self, cursor, model, columns: list[str]):
        named = set(columns)
        rest = [
            field
            for field in model._meta.concrete_fields
            if not field.primary_key and field.column not in named
        ]
        self.cursor, self.table = cursor, model._meta.db_table
        self.columns = [*columns, *(field.column for field in rest)]
        self.defaults = "".join("\t" + self._text(field.get_default()) for field in rest)
        self.buffer, self.rows = io.StringIO(), 0

    @staticmethod
    def _text(value) -> str:
        if value is None:
            return r"\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, list | dict):
            value = json.dumps(value)
        text = str(value)
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    def add(self, *values) -> None:
        self.buffer.write("\t".join(self._text(v) for v in values) + self.defaults + "\n")
        self.rows += 1
        if self.buffer.tell() > 8_000_000:
            self.flush()

    def flush(self) -> None:
        data = self.buffer.getvalue()
        if data:
            columns = ", ".join(self.columns)
            with self.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                copy.write(data)
        self.buffer = io.StringIO()


def drop_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """The usual bulk load: the table's secondary indexes (not those of constraints) are
    dropped before COPY and built once after it (build_indexes), timed on their own."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return indexes


def build_indexes(cursor, table: str, indexes: list[tuple[str, str]], timings: dict) -> None:
    started = time.perf_counter()
    for _, definition in indexes:
        cursor.execute(definition)
    timings[f"{table}_indexes"] = time.perf_counter() - started


def seed(scale: float, log) -> dict:
    """Bulk rows through COPY; the tokens the measurements present through token_issue."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from orgs.audit import Actor
    from orgs.models import AuditEvent, Deployment, Membership, Organization, Project
    from tokens import permissions as perms
    from tokens.models import Token
    from tokens.services import token_issue

    rng = random.Random(17)
    now = timezone.now()
    n_tokens = int(FULL_TOKENS * scale)
    n_orgs = max(10, int(FULL_ORGS * scale))
    n_events = int(FULL_EVENTS * scale)
    timings = {}

    admin = User.objects.create_user(ADMIN_EMAIL)
    heavy = User.objects.create_user(HEAVY_EMAIL)
    big = Organization.objects.create(slug=BIG_ORG, name="Big")
    small = Organization.objects.create(slug=SMALL_ORG, name="Small")
    for org in (big, small):
        Membership.objects.create(user=admin, organization=org, role=Membership.Role.OWNER)
    Membership.objects.create(user=heavy, organization=big, role=Membership.Role.MEMBER)
    web = Project.objects.create(organization=big, slug="web", name="Web")
    small_web = Project.objects.create(organization=small, slug="web", name="Web")
    presented = token_issue(
        kind=Token.Kind.PERSONAL,
        user=heavy,
        name="presented",
        permissions=perms.DEFAULT_PERMISSIONS,
        actor=Actor(user=heavy),
    ).plaintext

    raw = connection.connection
    unusable = make_password(None)
    with raw.cursor() as cursor:
        started = time.perf_counter()
        users = Copier(cursor, User, ["email", "name", "password", "is_active",
                                                 "is_staff", "is_superuser",
                                                 "date_joined"])  # fmt: skip
        for i in range(MEMBERS):
            users.add(f"member{i:05d}@scale.test", f"Member {i}", unusable, True, False, False,
                      now)  # fmt: skip
        users.flush()
        cursor.execute("SELECT id FROM accounts_user WHERE email LIKE 'member%%'")
        member_ids = [row[0] for row in cursor.fetchall()]
        members = Copier(cursor, Membership, ["user_id", "organization_id", "role",
                                                     "created_at"])  # fmt: skip
        for user_id in member_ids:
            members.add(user_id, big.pk, "member", now)
        members.flush()
        timings["users_and_members"] = time.perf_counter() - started

        started = time.perf_counter()
        orgs = Copier(cursor, Organization, ["slug", "name", "created_at",
                      "allow_personal_token_deploys", "max_token_lifetime_days"])  # fmt: skip
        for i in range(n_orgs - 2):
            orgs.add(f"org{i:05d}", f"Organization {i}", now, True, None)
        orgs.flush()
        cursor.execute("SELECT id FROM orgs_organization WHERE slug LIKE 'org%%' ORDER BY id")
        org_ids = [row[0] for row in cursor.fetchall()]
        projects = Copier(cursor, Project, ["organization_id", "slug", "name",
                                                   "created_at"])  # fmt: skip
        for org_id in org_ids:
            for p in range(2):
                projects.add(org_id, f"p{p}", f"Project {p}", now)
        projects.flush()
        cursor.execute("SELECT id, organization_id FROM orgs_project WHERE slug LIKE 'p_'")
        project_rows = cursor.fetchall()
        timings["organizations_and_projects"] = time.perf_counter() - started

        # Tokens: 10 % personal tokens of the heavy user (revoke-all), 20 % personal of
        # the members, 10 % CI of the big organization, 35 % CI and 20 % deployment tokens
        # spread over the other organizations, 5 % deployment tokens of big/web; a tenth of
        # all revoked, as in life.
        token_indexes = drop_indexes(cursor, "tokens_token")
        started = time.perf_counter()
        columns = ["kind", "name", "description", "user_id", "organization_id", "project_id",
                   "role", "permissions", "digest", "salt_fingerprint", "preview",
                   "created_at", "expires_at", "last_used_at", "revoked_at",
                   "revoke_reason"]  # fmt: skip
        tokens = Copier(cursor, Token, columns)
        permissions = json.dumps(sorted(perms.DEFAULT_PERMISSIONS))
        shares = (
            (0.10, "pat", lambda i: (heavy.pk, None, None)),
            (0.20, "pat", lambda i: (member_ids[i % MEMBERS], None, None)),
            (0.10, "ci", lambda i: (None, big.pk, None)),
            (0.35, "ci", lambda i: (None, org_ids[i % len(org_ids)], None)),
            (0.20, "dep", lambda i: (None, *project_rows[i % len(project_rows)][::-1])),
            (0.05, "dep", lambda i: (None, big.pk, web.pk)),
        )
        number = 0
        for share, kind, owner in shares:
            for i in range(int(n_tokens * share)):
                number += 1
                user_id, org_id, project_id = owner(i)
                created = now - timedelta(minutes=number % 500_000)
                revoked = created + timedelta(days=1) if number % 10 == 0 else None
                tokens.add(
                    kind,
                    f"token {number:07d}",
                    "",
                    user_id,
                    org_id,
                    project_id,
                    "" if kind == "pat" else "ci",
                    permissions,
                    secrets.token_hex(32),
                    "",
                    f"tdk_{kind}_{number:07d}…",
                    created,
                    created + timedelta(days=90) if number % 2 else None,
                    now - timedelta(hours=number % 700) if number % 3 else None,
                    revoked,
                    "revoked" if revoked else "",
                )
        tokens.flush()
        timings["tokens"] = time.perf_counter() - started
        build_indexes(cursor, "tokens_token", token_indexes, timings)

        event_indexes = drop_indexes(cursor, "orgs_auditevent")
        started = time.perf_counter()
        event_columns = ["created_at", "action", "organization_id", "project_id",
                         "actor_user_id", "actor_token_id", "actor_label", "target_type",
                         "target_id", "target_label", "ip", "user_agent",
                         "data"]  # fmt: skip
        events = Copier(cursor, AuditEvent, event_columns)
        for i in range(n_events):
            org_id = big.pk if i % 5 == 0 else org_ids[i % len(org_ids)]
            events.add(
                now - timedelta(seconds=(n_events - i) * 3),
                ACTIONS[rng.randrange(len(ACTIONS))],
                org_id,
                web.pk if org_id == big.pk and i % 7 == 0 else None,
                None,
                None,
                f"member{i % MEMBERS:05d}@scale.test",
                "token",
                i % max(1, n_tokens),
                f"token {i % max(1, n_tokens):07d} (tdk_ci_abcd…wxyz)",
                "192.0.2.10",
                "scale",
                "{}",
            )
        events.flush()
        timings["audit_events"] = time.perf_counter() - started
        build_indexes(cursor, "orgs_auditevent", event_indexes, timings)

        # Deployments for the deploy-auth page: legacy (personal-token) deploys of big/web.
        started = time.perf_counter()
        deployments = Copier(cursor, Deployment, ["project_id", "ref", "environment",
                             "created_at", "created_by_id", "token_id", "token_kind",
                             "token_preview"])  # fmt: skip
        for i in range(int(100_000 * scale)):
            kind = "pat" if i % 2 else "ci"
            at = now - timedelta(minutes=i)
            deployments.add(web.pk, f"{i:07x}", "production", at, heavy.pk, 1 + i % 1000,
                            kind, f"tdk_{kind}_…")  # fmt: skip
        # The small organization's page lists the same kinds of rows, a few of each.
        for i in range(3):
            deployments.add(small_web.pk, f"{i:07x}", "production", now, heavy.pk, 1 + i,
                            "pat", "tdk_pat_…")  # fmt: skip
        deployments.flush()
        timings["deployments"] = time.perf_counter() - started

        started = time.perf_counter()
        # What autovacuum does to a table this size soon after a bulk load: statistics, and
        # the visibility map that lets a page's COUNT read its index alone.
        cursor.execute("VACUUM (ANALYZE)")
        timings["vacuum_analyze"] = time.perf_counter() - started

    for org, project in ((small, small_web),):
        for i in range(10):
            token_issue(kind=Token.Kind.CI, organization=org, name=f"small {i}", role="ci",
                        permissions=perms.for_role("ci"), actor=Actor(user=admin))  # fmt: skip
        token_issue(kind=Token.Kind.DEPLOYMENT, project=project, organization=org,
                    name="small dep", role="ci", permissions=perms.for_role("ci"),
                    actor=Actor(user=admin))  # fmt: skip
    counts = {
        "tokens": Token.objects.count(),
        "organizations": Organization.objects.count(),
        "audit_events": n_events,
        "big_org_members": Membership.objects.filter(organization=big).count(),
        "heavy_user_live_personal_tokens": Token.objects.personal_for(heavy).unrevoked().count(),
    }
    return {"timings_s": timings, "counts": counts, "presented": presented}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@functools.cache
def big_tables() -> frozenset[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > %s", [BIG_TABLE_ROWS]
        )
        return frozenset(name for (name,) in cursor.fetchall())


def explain(sql: str, params) -> dict:
    """Indexes used and sequential scans of big tables, from EXPLAIN (FORMAT JSON)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    indexes, seq_scans = set(), set()

    def walk(node):
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in big_tables():
            seq_scans.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return {"indexes": sorted(indexes), "seq_scans_of_big_tables": sorted(seq_scans)}


def measure_page(client, url: str, repeats: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    count = len(captured.captured_queries)  # before the next request resets the log
    # The database's share of the page, which other load on the machine moves far less than
    # the rendering: the sum of the first render's query times.
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    queries = [q for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    plans = []
    for query in queries:
        # The captured SQL has its parameters inlined; EXPLAIN it as it ran.
        plans.append(
            {"sql": query["sql"][:160], "first_ms": float(query["time"]) * 1000}
            | explain(query["sql"], None)
        )
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    html = response.content.decode()
    return {
        "url": url,
        "queries": count,
        "sql_ms": sql_ms,
        "p50_ms": statistics.median(times),
        "p99_ms": percentile(times, 0.99),
        "rows_rendered": html.count("<tr") - html.count("<thead"),
        "plans": plans,
    }


def measure(seeded: dict, scale: float, repeats: int, log) -> dict:
    from django.test import Client, RequestFactory
    from django.urls import reverse

    from accounts.models import User
    from orgs.audit import Actor
    from tokens.api.core import BearerTokenAuth
    from tokens.services import tokens_revoke_all

    results: dict = {}
    auth = BearerTokenAuth()
    request = RequestFactory().get(
        "/", HTTP_AUTHORIZATION=f"Bearer {seeded['presented']}", REMOTE_ADDR="127.0.0.1"
    )
    for _ in range(200):
        auth(request)
    times = []
    for _ in range(3000):
        start = time.perf_counter()
        auth(request)
        times.append((time.perf_counter() - start) * 1e6)
    results["verify_us"] = {"p50": statistics.median(times), "p99": percentile(times, 0.99)}
    verify = results["verify_us"]
    log(f"verify: p50 {verify['p50']:.0f} µs, p99 {verify['p99']:.0f} µs")

    admin, heavy = Client(), Client()
    admin.force_login(User.objects.get(email=ADMIN_EMAIL))
    heavy.force_login(User.objects.get(email=HEAVY_EMAIL))
    audit = reverse("orgs:audit", args=[BIG_ORG])
    small_audit = reverse("orgs:audit", args=[SMALL_ORG])
    pages = [
        ("personal tokens", heavy, reverse("tokens:personal"), None),
        ("CI tokens", admin, reverse("tokens:ci", args=[BIG_ORG]),
         reverse("tokens:ci", args=[SMALL_ORG])),
        ("deployment tokens", admin, reverse("tokens:deployment", args=[BIG_ORG, "web"]),
         reverse("tokens:deployment", args=[SMALL_ORG, "web"])),
        ("audit log", admin, audit, small_audit),
        ("audit log, actor filter", admin, f"{audit}?actor=member00042",
         f"{small_audit}?actor=member00042"),
        ("audit log, action filter", admin, f"{audit}?action=member.add",
         f"{small_audit}?action=member.add"),
        ("audit log, token filter", admin, f"{audit}?token=token+00012",
         f"{small_audit}?token=token+00012"),
        ("audit log, date filter", admin, f"{audit}?since=2020-01-01&until=2020-01-02",
         f"{small_audit}?since=2020-01-01&until=2020-01-02"),
        ("audit log, page 100", admin, None, None),
        ("deploy auth", admin, reverse("tokens:deploy-auth", args=[BIG_ORG]),
         reverse("tokens:deploy-auth", args=[SMALL_ORG])),
        ("members", admin, reverse("orgs:members", args=[BIG_ORG]),
         reverse("orgs:members", args=[SMALL_ORG])),
    ]  # fmt: skip
    from orgs.models import AuditEvent, Organization

    big = Organization.objects.get(slug=BIG_ORG)
    deep = (
        AuditEvent.objects.filter(organization=big).order_by("-id").values_list("id", flat=True)
    )[50 * 100]
    results["pages"] = []
    for name, client, url, small_url in pages:
        if url is None:
            url = f"{audit}?before={deep}"
        page = {"page": name} | measure_page(client, url, repeats)
        results["pages"].append(page)
        if small_url:
            small = {"page": f"{name} (small organization)"} | measure_page(
                client, small_url, max(3, repeats // 3)
            )
            page["queries_small_org"] = small["queries"]
            results["pages"].append(small)
        log(
            f"{name}: p50 {page['p50_ms']:.0f} ms, p99 {page['p99_ms']:.0f} ms, "
            f"{page['queries']} queries (small org: {page.get('queries_small_org', '—')}), "
            f"indexes {sorted({i for p in page['plans'] for i in p['indexes']})}, "
            f"seq scans {sorted({s for p in page['plans'] for s in p['seq_scans_of_big_tables']})}"
        )
        slowest = max(page["plans"], key=lambda p: p["first_ms"], default=None)
        if slowest and slowest["first_ms"] > 5:
            log(f"    slowest query {slowest['first_ms']:.0f} ms: {slowest['sql'][:120]}")

    user = User.objects.get(email=HEAVY_EMAIL)
    start = time.perf_counter()
    revoked = tokens_revoke_all(user=user, actor=Actor(user=user))
    results["revoke_all"] = {"tokens": revoked, "seconds": time.perf_counter() - start}
    log(f"revoke-all: {revoked:,} tokens in {results['revoke_all']['seconds']:.2f} s")

    results["export"] = export = export_memory(big, int(EXPORT_EVENTS * scale))
    if export is None:
        log("export: too few events at this scale to tell bounded memory from growing")
        return results
    log(
        f"export: {export['events']:,} events ({export['megabytes']:,.0f} MB of NDJSON) in "
        f"{export['seconds']:.0f} s; peak {export['peak_mib_early']:.1f} MiB after "
        f"{export['early_events']:,} events, {export['peak_mib']:.1f} MiB at the end"
    )
    return results


def export_memory(organization, count: int) -> dict | None:
    """`count` events of the organization's audit log streamed as NDJSON, as the export view
    sends them (events.export.stream): Python's peak allocation (tracemalloc) early on (after
    a tenth of them, and at least five fetches of rows) and after the last. Bounded memory
    means the two are alike. None when `count` is too few to have an early and a late part."""
    from events import export

    early_events = max(count // 10, 5 * export.CHUNK)
    if count < 2 * early_events:
        return None
    response = export.stream(organization, {}, "ndjson")
    tracemalloc.start()
    started = time.perf_counter()
    events = size = 0
    early = None
    for line in itertools.islice(response.streaming_content, count):
        events += 1
        size += len(line)
        if events == early_events:
            early = tracemalloc.get_traced_memory()[1]
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if early is None:
        raise RuntimeError(f"the export gave {events:,} events of the {count:,} asked for")
    return {
        "events": events,
        "early_events": early_events,
        "megabytes": size / 1e6,
        "seconds": seconds,
        "peak_mib_early": early / 2**20,
        "peak_mib": peak / 2**20,
    }


def targets(results: dict) -> list[dict]:
    out = []
    for page in results["pages"]:
        small = page.get("queries_small_org")
        if small is not None:
            out.append({"target": f"{page['page']}: same queries as a small organization",
                        "measured": f"{page['queries']} vs {small}",
                        "passed": page["queries"] == small})  # fmt: skip
        out.append({"target": f"{page['page']}: p50 < {PAGE_TARGET_MS:.0f} ms",
                    "measured": f"{page['p50_ms']:.0f} ms (p99 {page['p99_ms']:.0f} ms, "
                    f"SQL {page['sql_ms']:.0f} ms)",
                    "passed": page["p50_ms"] < PAGE_TARGET_MS})  # fmt: skip
        scans = sorted({s for p in page["plans"] for s in p["seq_scans_of_big_tables"]})
        out.append({"target": f"{page['page']}: no sequential scan of a big table",
                    "measured": ", ".join(scans) or "none", "passed": not scans})  # fmt: skip
    revoke = results["revoke_all"]
    out.append({"target": f"revoke-all of {revoke['tokens']:,} tokens < {REVOKE_TARGET_S:.0f} s",
                "measured": f"{revoke['seconds']:.2f} s",
                "passed": revoke["seconds"] < REVOKE_TARGET_S})  # fmt: skip
    export = results["export"]
    if export is None:
        return out
    bounded = export["peak_mib"] <= export["peak_mib_early"] * (1 + EXPORT_GROWTH)
    out.append({"target": f"audit export of {export['events']:,} events: peak memory within "
                          f"{EXPORT_GROWTH:.0%} of the peak after {export['early_events']:,}",
                "measured": f"{export['peak_mib']:.1f} vs {export['peak_mib_early']:.1f} MiB "
                            f"in {export['seconds']:.0f} s",
                "passed": bounded})  # fmt: skip
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    from bench import pgcluster

    settings = ("shared_buffers=256MB", "maintenance_work_mem=256MB", "max_wal_size=4GB")
    with pgcluster.cluster(settings) as url:
        os.environ["BENCH_DATABASE_URL"] = url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        log(f"PostgreSQL cluster at {url}; migrating")
        call_command("migrate", interactive=False, verbosity=0)
        log(f"seeding at scale {args.scale} with COPY")
        seeded = seed(args.scale, log)
        seconds = sum(seeded["timings_s"].values())
        log(f"seeded {seeded['counts']} in {seconds:.0f} s: {seeded['timings_s']}")
        measured = measure(seeded, args.scale, args.repeats, log)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        connection.close()
    results = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench-scale",
        "scale": args.scale,
        "postgresql": version,
        "seeding": {k: v for k, v in seeded.items() if k != "presented"},
        **measured,
    }
    results["targets"] = targets(results)
    results["load_average"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nScale {args.scale}: {seeded['counts']}")
    print(f"Seeding (COPY): {seconds:.0f} s " + json.dumps(
        {k: round(v, 1) for k, v in seeded["timings_s"].items()}))  # fmt: skip
    print(f"Verify: p50 {measured['verify_us']['p50']:.0f} µs, "
          f"p99 {measured['verify_us']['p99']:.0f} µs")  # fmt: skip
    width = max(len(t["target"]) for t in results["targets"])
    for t in results["targets"]:
        verdict = "PASS" if t["passed"] else "FAIL"
        print(f"{t['target']:<{width}}  {t['measured']:<44}  {verdict}")
    print(f"load average {results['load_average']}; written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
