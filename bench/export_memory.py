"""Audit export memory: tracemalloc's peak while streaming 10,000 and 100,000 events.

    .venv/bin/python bench/export_memory.py              # a fresh SQLite file in bench/.data/
    DATABASE_URL=postgres://… .venv/bin/python bench/export_memory.py   # an empty database

Streams the real view's response (`events.export.stream`) to nowhere, in both formats, and
measures the same rows loaded as a list for comparison. Prints one table; figures go in
README's Performance section. A constant-memory export shows about the same peak for both
sizes; the list's grows with the log."""

import argparse
import os
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("TOKENDESK_CREATE_DOTENV", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-used-for-anything-real-0123")
    if "DATABASE_URL" not in os.environ:
        DATA.mkdir(exist_ok=True)
        database = DATA / "export.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(organization, count: int, start_id: int) -> None:
    from orgs.models import AuditEvent

    base = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    for n in range(start_id, start_id + count):
        batch.append(
            AuditEvent(
                created_at=base + timedelta(seconds=n),
                action="token.create",
                organization=organization,
                actor_label="owner@bench.test",
                target_type="token",
                target_id=n,
                target_label=f"CI token {n} (tdk_ci_abcd…wxyz)",
                ip="203.0.113.7",
                user_agent="bench/1.0 (a user agent of ordinary length for a CLI)",
                data={"role": "ci", "expires_in_days": 90},
            )
        )
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)


def measure(consume) -> tuple[float, float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    size = consume()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    setup()

    from events import export
    from orgs.models import AuditEvent, Organization

    organization, _ = Organization.objects.get_or_create(slug="bench", name="Bench")
    AuditEvent.objects.filter(organization=organization).exists()

    def stream(fmt):
        def consume():
            response = export.stream(organization, {}, fmt)
            return sum(len(chunk) for chunk in response.streaming_content)

        return consume

    def as_list():
        rows = list(AuditEvent.objects.filter(organization=organization).order_by("id"))
        return len(rows)

    print(f"database: {os.environ['DATABASE_URL'].split('://')[0]}, chunk {export.CHUNK} rows")
    print(f"{'events':>8}  {'what':<22} {'peak MiB':>9} {'seconds':>8} {'bytes out':>12}")
    seeded = 0
    for size in (int(s) for s in args.sizes.split(",")):
        seed(organization, size - seeded, seeded)
        seeded = size
        for label, consume in (
            ("stream ndjson", stream("ndjson")),
            ("stream csv", stream("csv")),
            ("list() of the rows", as_list),
        ):
            peak, elapsed, out = measure(consume)
            shown = f"{out:>12,}" if label.startswith("stream") else f"{'—':>12}"
            print(f"{size:>8,}  {label:<22} {peak:>9.1f} {elapsed:>8.1f} {shown}")


if __name__ == "__main__":
    main()
