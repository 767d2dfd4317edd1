"""A throwaway PostgreSQL cluster for the bench, as .ci/run starts one: Debian's initdb and
pg_ctl from /usr/lib/postgresql/*/bin, run as the postgres user when we are root, trust
authentication on 127.0.0.1 only, fsync off (nothing in it outlives the run)."""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class NoPostgres(RuntimeError):
    pass


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not found:
        raise NoPostgres("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(found[-1]).parent


def _version(path: str) -> tuple[int, ...]:
    number = Path(path).parent.parent.name
    return tuple(int(part) for part in number.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def cluster(settings: tuple[str, ...] = ()) -> Iterator[str]:
    """Start a cluster, yield its DATABASE_URL (database `tokendesk`), stop and delete it."""
    binaries = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="tokendesk-bench-pg."))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    options = " ".join(
        [f"-p {port}", f"-k {root}", "-c listen_addresses=127.0.0.1", "-c fsync=off"]
        + [f"-c {setting}" for setting in settings]
    )

    def run(*command: str) -> None:
        subprocess.run(  # noqa: S603 - our own command lines
            [*as_postgres, *command], check=True, stdout=subprocess.DEVNULL
        )

    try:
        run(
            str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"
        )
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
            "-o", options, "start")  # fmt: skip
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            "tokendesk")  # fmt: skip
        yield f"postgres://postgres@127.0.0.1:{port}/tokendesk"
    finally:
        subprocess.run(  # noqa: S603
            [*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
