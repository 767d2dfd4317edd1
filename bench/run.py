"""`make bench`: the same run on SQLite and on a throwaway PostgreSQL cluster, each with its
table and JSON file under bench/results/, then both side by side with the targets.

    .venv/bin/python bench/run.py [--database both|sqlite|postgresql] [--rounds 5]
                                  [--seconds 3] [--tokens 10000] [--profile]

Per database (a child process each, so each has its own settings):

1. A fresh bench database, 10,000 credentials per scheme (bench/seed.py): a SQLite file, or
   a PostgreSQL cluster this run starts and deletes (bench/pgcluster.py).
2. gunicorn (2 sync workers) on a free 127.0.0.1 port; wrk drives each endpoint for
   `--seconds`, all endpoints once per round, each scheme right next to its no-auth twin,
   for `--rounds` rounds.
3. In-process: verifications per second and queries per verify; list pages at 10 and at
   10,000 rows; revoke-all of 10,000 personal tokens; last_used_at writes under load.
4. The table, with PASS/FAIL against each target of issue 5."""

import argparse
import itertools
import json
import os
import platform
import resource
import signal
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

RESULTS = ROOT / "bench" / "results"
DEPLOY_BODY = '{"ref": "4f1c2ab", "environment": "production"}'
TOUCH_BURST_SECONDS = 4
USAGE_WINDOW_SECONDS = 60
# A worker decides to write from the request's clock; the database trigger stamps the write
# when the statement runs. A write that waited a few ms for the database and the next one
# that did not can stamp 59.99 s apart though the worker kept its minute (as the touch check
# allows 0.5 s for last_used_at).
USAGE_STAMP_SLACK_SECONDS = 0.5
TOUCH_INTERVAL_SECONDS = 60


def _bounded(low: int, high: int):
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"between {low} and {high}")
        return value

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=_bounded(1, 10), default=5)
    parser.add_argument("--seconds", type=_bounded(1, 30), default=3, help="per endpoint")
    parser.add_argument("--tokens", type=_bounded(100, 50_000), default=10_000)
    parser.add_argument(
        "--profile", action="store_true", help="pyinstrument profiles into bench/.data/"
    )
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def both(args: argparse.Namespace) -> int:
    """Each database in a child process (PostgreSQL in a cluster started for it), then the
    two side by side."""
    import subprocess
    import tempfile

    from bench import pgcluster, report

    common = ["--rounds", str(args.rounds), "--seconds", str(args.seconds)]
    common += ["--tokens", str(args.tokens)] + (["--profile"] if args.profile else [])
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for database in ("sqlite", "postgresql"):
            out = Path(tmp) / f"{database}.json"
            command = [sys.executable, __file__, "--database", database, "--json-out", str(out)]
            env = {**os.environ}
            env.pop("BENCH_DATABASE_URL", None)
            print(f"\n== {database}", flush=True)
            if database == "postgresql":
                try:
                    with pgcluster.cluster() as url:
                        env["BENCH_DATABASE_URL"] = url
                        subprocess.run([*command, *common], env=env, check=True)  # noqa: S603
                except pgcluster.NoPostgres as error:
                    print(f"PostgreSQL skipped: {error}", flush=True)
                    continue
            else:
                subprocess.run([*command, *common], env=env, check=True)  # noqa: S603
            results[database] = json.loads(out.read_text())
    print("\n" + report.side_by_side(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-both.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nWritten {path.relative_to(ROOT)}.")
    return 0


def endpoints(seeded) -> list:
    from bench import names
    from bench.http_load import Endpoint

    deploy = f"orgs/{names.ORG}/projects/{names.PROJECT}/deployments"
    result = []
    for op, api_path, twin_path, body, expect in (
        ("whoami", "/api/v1/whoami", "/bench/tdk-noauth/whoami", "", 200),
        ("deploy", f"/api/v1/{deploy}", f"/bench/tdk-noauth/{deploy}", DEPLOY_BODY, 201),
    ):
        token = seeded.tokendesk_whoami if op == "whoami" else seeded.tokendesk_deploy
        result += [
            Endpoint("tokendesk-noauth", op, twin_path, expect, body=body),
            Endpoint(
                "tokendesk",
                op,
                api_path,
                expect,
                twin="tokendesk-noauth",
                authorization=f"Bearer {token}",
                body=body,
            ),
        ]
        suffix = "whoami" if op == "whoami" else deploy
        result.append(Endpoint("drf-noauth", op, f"/bench/drf-noauth/{suffix}", expect, body=body))
        for scheme, authorization in (
            ("drf", f"Token {seeded.drf}"),
            ("knox", f"Token {seeded.knox}"),
            ("api-key", f"Api-Key {seeded.api_key}"),
        ):
            result.append(
                Endpoint(
                    scheme,
                    op,
                    f"/bench/{scheme}/{suffix}",
                    expect,
                    twin="drf-noauth",
                    authorization=authorization,
                    body=body,
                )
            )
    return result


def _families(targets: list) -> list[list]:
    """Each no-auth twin with the schemes measured against it, per operation."""
    families = []
    for twin in (e for e in targets if e.twin is None):
        members = [e for e in targets if e.op == twin.op and e.twin == twin.scheme]
        families.append([twin, *members])
    return families


def _round_order(families: list[list], round_number: int) -> list:
    """Families one after another, each scheme next to its twin; the order within a family
    flips every round (twin first, then twin last) so linear drift cancels in the ratios,
    and the order of families rotates."""
    shift = round_number % len(families)
    order = []
    for family in families[shift:] + families[:shift]:
        order += family if round_number % 2 == 0 else family[::-1]
    return order


def _cpu_per_request(runs: list) -> float | None:
    if any(r.server_cpu_seconds is None for r in runs):
        return None
    return sum(r.server_cpu_seconds for r in runs) / sum(r.requests for r in runs) * 1e6


def http_phase(seeded, args, data_dir: Path, log) -> dict:
    from bench import http_load
    from bench.http_load import Endpoint

    http_load.wrk_path()
    targets = endpoints(seeded)
    scripts = {e.key: http_load.write_script(e, data_dir) for e in targets}
    burst = Endpoint(
        "tokendesk",
        "burst",
        "/api/v1/whoami",
        200,
        authorization=f"Bearer {seeded.tokendesk_burst}",
    )
    burst_script = http_load.write_script(burst, data_dir)
    runs: dict[str, list] = {e.key: [] for e in targets}
    with http_load.gunicorn(ROOT, data_dir, probe=targets[0]) as server:
        load_started = time.monotonic()
        log(f"gunicorn: 2 sync workers on {server.base_url}")
        for endpoint in targets:
            status, body = http_load.request(server.port, endpoint)
            if status != endpoint.expect:
                raise RuntimeError(f"{endpoint.key} answered {status}: {body[:300]!r}")
        log("warm-up: 1 s per endpoint")
        for endpoint in targets:
            http_load.drive(server, endpoint, scripts[endpoint.key], 1)
        families = _families(targets)
        for round_number in range(args.rounds):
            log(f"round {round_number + 1}/{args.rounds}: {len(targets)} × {args.seconds} s")
            for endpoint in _round_order(families, round_number):
                run = http_load.drive(server, endpoint, scripts[endpoint.key], args.seconds)
                runs[endpoint.key].append(run)
        log(f"last_used_at burst: {TOUCH_BURST_SECONDS} s on a token never used before")
        burst_run = http_load.drive(server, burst, burst_script, TOUCH_BURST_SECONDS)
        if burst_run.status_errors or burst_run.socket_errors:
            raise RuntimeError(f"burst: {burst_run}")
        # Usage counters written from here on are the workers' exit flush, not steady state.
        load_ended_at = datetime.now(UTC)
        load_seconds = time.monotonic() - load_started
    rows = {}
    for endpoint in targets:
        endpoint_runs = runs[endpoint.key]
        requests = sum(r.requests for r in endpoint_runs)
        seconds = sum(r.seconds for r in endpoint_runs)
        rows[endpoint.key] = {
            "scheme": endpoint.scheme,
            "op": endpoint.op,
            "path": endpoint.path,
            "twin": endpoint.twin,
            "requests": requests,
            "rps": requests / seconds,
            "p50_ms": statistics.median(r.p50_ms for r in endpoint_runs),
            "p99_ms": statistics.median(r.p99_ms for r in endpoint_runs),
            "errors": sum(r.status_errors + r.socket_errors for r in endpoint_runs),
            "cpu_us_per_request": _cpu_per_request(endpoint_runs),
            "rounds": [
                r.__dict__ | {"rps": r.rps, "cpu_us_per_request": r.cpu_us_per_request}
                for r in endpoint_runs
            ],
        }
    for row in rows.values():
        if row["twin"]:
            twin = rows[f"{row['op']}:{row['twin']}"]
            # Paired: a scheme and its twin ran back to back in each round.
            row["ratio_by_round"] = [
                mine["rps"] / theirs["rps"]
                for mine, theirs in zip(row["rounds"], twin["rounds"], strict=True)
            ]
            row["ratio"] = statistics.median(row["ratio_by_round"])
            row["ratio_of_totals"] = row["rps"] / twin["rps"]
            # The same ratio from the workers' CPU time per request, which other load on the
            # machine barely moves: twin's CPU per request ÷ this scheme's.
            cpu_ratios = [
                theirs["cpu_us_per_request"] / mine["cpu_us_per_request"]
                for mine, theirs in zip(row["rounds"], twin["rounds"], strict=True)
                if mine["cpu_us_per_request"] and theirs["cpu_us_per_request"]
            ]
            row["cpu_ratio"] = statistics.median(cpu_ratios) if cpu_ratios else None
    return {
        "connections": http_load.CONNECTIONS,
        "workers": http_load.WORKERS,
        "rows": rows,
        "burst": burst_run.__dict__ | {"rps": burst_run.rps},
        "load_ended_at": load_ended_at,
        "load_seconds": load_seconds,
    }


def _most_in_a_minute(times: list[datetime]) -> int:
    """The most writes within any 60 seconds (a sliding window, less the stamps' slack)."""
    most, start = 0, 0
    window = USAGE_WINDOW_SECONDS - USAGE_STAMP_SLACK_SECONDS
    for end, at in enumerate(times):
        while (at - times[start]).total_seconds() >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def usage_phase(http: dict) -> dict:
    """Usage counters under the load: writes per token per minute while it ran (steady
    state; the workers' exit flush apart) and the calls they hold against the requests."""
    from bench import inprocess, names

    ids = inprocess.token_ids()
    writes = inprocess.usage_writes()
    calls = inprocess.usage_calls()
    minutes = http["load_seconds"] / 60
    requests = {
        names.WHOAMI_LABEL: http["rows"]["whoami:tokendesk"]["requests"],
        names.DEPLOY_LABEL: http["rows"]["deploy:tokendesk"]["requests"],
        names.BURST_LABEL: http["burst"]["requests"],
    }
    by_name = {}
    for name, token_id in ids.items():
        times = sorted(writes.get(token_id, []))
        steady = [at for at in times if at < http["load_ended_at"]]
        by_name[name] = {
            "requests_measured": requests[name],
            "calls_counted": calls.get(token_id, 0),
            "writes_during_load": len(steady),
            "writes_at_exit": len(times) - len(steady),
            "writes_per_minute": len(steady) / minutes if minutes else None,
            "most_writes_in_a_minute": _most_in_a_minute(steady),
        }
    return {
        "tokens": by_name,
        "workers": http["workers"],
        "load_minutes": minutes,
    }


def touch_phase(http: dict) -> dict:
    from bench import inprocess, names

    ids = inprocess.token_ids()
    writes = inprocess.touch_writes()
    by_name = {}
    requests = {
        names.WHOAMI_LABEL: http["rows"]["whoami:tokendesk"]["requests"],
        names.DEPLOY_LABEL: http["rows"]["deploy:tokendesk"]["requests"],
        names.BURST_LABEL: http["burst"]["requests"],
    }
    for name, token_id in ids.items():
        times = writes.get(token_id, [])
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        by_name[name] = {
            "requests_measured": requests[name],
            "writes": len(times),
            "min_gap_seconds": min(gaps) if gaps else None,
        }
    all_gaps = []
    for times in writes.values():
        all_gaps += [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return {
        "tokens": by_name,
        "tokens_written": len(writes),
        "writes_total": sum(len(t) for t in writes.values()),
        "min_gap_seconds": min(all_gaps) if all_gaps else None,
    }


def profile(seeded, data_dir: Path, log) -> list[str]:
    """pyinstrument profiles of the verification alone, of whole whoami requests through
    Django's test client, and of the personal-token page at 10,000 rows."""
    from django.test import Client, RequestFactory
    from pyinstrument import Profiler

    from accounts.models import User
    from bench import names
    from tokens.api.core import BearerTokenAuth

    authorization = f"Bearer {seeded.tokendesk_whoami}"
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=authorization, REMOTE_ADDR="127.0.0.1")
    auth = BearerTokenAuth()
    api_client = Client()
    page_client = Client()
    page_client.force_login(User.objects.get(email=names.LARGE_EMAIL))
    jobs = {
        "verify": lambda: [auth(request) for _ in range(3000)],
        "whoami-request": lambda: [
            api_client.get("/api/v1/whoami", HTTP_AUTHORIZATION=authorization) for _ in range(500)
        ],
        "personal-page": lambda: [page_client.get("/settings/tokens/") for _ in range(20)],
    }
    files = []
    for name, job in jobs.items():
        job()  # warm
        profiler = Profiler(interval=0.0002)
        with profiler:
            job()
        path = data_dir / f"profile-{name}.txt"
        path.write_text(profiler.output_text(unicode=True, show_all=False))
        files.append(str(path))
    log("profiles: " + ", ".join(files))
    return files


class CpuMeter:
    """How much of the machine's CPU went to processes other than this run (the bench, its
    gunicorn and wrk, all reaped by the time a phase ends): a busy machine makes noise."""

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        except (OSError, ValueError):
            return None
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        own = sum(
            usage.ru_utime + usage.ru_stime
            for usage in (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
        )
        return time.monotonic(), busy, own

    def others_share(self) -> float | None:
        """Share of all CPUs used by other processes since the meter started, 0..1."""
        end = self._sample()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        others = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return max(0.0, others / (wall * (os.cpu_count() or 1)))


def environment() -> dict:
    packages = [
        "Django",
        "django-ninja",
        "djangorestframework",
        "django-rest-knox",
        "djangorestframework-api-key",
        "gunicorn",
    ]
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "packages": {name: metadata.version(name) for name in packages},
    }


def _database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        return f"{connection.vendor} {cursor.fetchone()[0]}"


def _percent(share: float | None) -> str:
    return "?" if share is None else f"{share:.0%}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database == "both":
        return both(args)
    if (args.database == "postgresql") != bool(os.environ.get("BENCH_DATABASE_URL")):
        raise SystemExit("--database postgresql needs BENCH_DATABASE_URL, and only it does")
    started = time.monotonic()
    run_meter = CpuMeter()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from bench import inprocess, report, seed

    data_dir = Path(settings.BENCH_DATA_DIR) / connection.vendor
    data_dir.mkdir(parents=True, exist_ok=True)
    log(f"fresh {connection.vendor} database {settings.DATABASES['default']['NAME']}")
    seed.reset_database()
    log(f"seeding {args.tokens:,} credentials per scheme")
    seeded = seed.seed(args.tokens)
    log(f"seeded: {seeded.counts}")

    http_meter = CpuMeter()
    http = http_phase(seeded, args, data_dir, log)
    http["other_cpu_share"] = http_meter.others_share()
    log(f"other processes used {_percent(http['other_cpu_share'])} of the CPUs meanwhile")
    log("in-process: verifications per second")
    verify = [r.as_dict() for r in inprocess.verify_rates(seeded)]
    touch = touch_phase(http)
    usage = usage_phase(http)
    log("in-process: list pages at 10 and at 10,000 rows")
    pages = [p.as_dict() for p in inprocess.pages(args.tokens)]
    profiles = profile(seeded, data_dir, log) if args.profile else []
    log("in-process: revoke-all")
    revoke = inprocess.revoke_all()

    results = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make bench",
        "database": connection.vendor,
        "arguments": {k: v for k, v in vars(args).items() if k != "json_out"},
        "environment": environment() | {"database_version": _database_version()},
        "seeded": seeded.counts,
        "http": http,
        "verify": verify,
        "touch": touch,
        "usage": usage,
        "pages": pages,
        "revoke_all": revoke,
        "profiles": profiles,
    }
    results["other_cpu_share"] = run_meter.others_share()
    results["targets"] = report.targets(results)
    results["seconds"] = round(time.monotonic() - started, 1)
    table = report.table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{connection.vendor}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, default=str))
    print(table)
    print(f"\nWritten {path.relative_to(ROOT)} in {results['seconds']:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
