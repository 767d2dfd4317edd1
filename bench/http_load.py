"""gunicorn on a free 127.0.0.1 port, and bounded wrk runs against it."""

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
WORKERS = 2
CONNECTIONS = 4  # two per sync worker, so neither waits for the next request
READY_TIMEOUT = 60
MARKER = "BENCHJSON "


@dataclass(frozen=True)
class Endpoint:
    scheme: str  # tokendesk, tokendesk-noauth, drf, knox, api-key, drf-noauth
    op: str  # whoami or deploy
    path: str
    expect: int
    twin: str | None = None  # the scheme this one's ratio is taken against
    authorization: str = ""
    body: str = ""

    @property
    def key(self) -> str:
        return f"{self.op}:{self.scheme}"

    @property
    def method(self) -> str:
        return "POST" if self.body else "GET"

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if self.body else {}
        if self.authorization:
            headers["Authorization"] = self.authorization
        return headers


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    socket_errors: int
    server_cpu_seconds: float | None = None  # the gunicorn workers' CPU time during the run

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return self.server_cpu_seconds / self.requests * 1e6

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path
    runs: dict[str, list[Run]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(port: int, endpoint: Endpoint, timeout: float = 10) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(
            endpoint.method, endpoint.path, body=endpoint.body or None, headers=endpoint.headers()
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextlib.contextmanager
def gunicorn(root: Path, data_dir: Path, probe: Endpoint) -> Iterator[Server]:
    """Serve the bench settings with 2 sync workers; always stopped on the way out."""
    port = free_port()
    log = data_dir / "gunicorn.log"
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        f"--workers={WORKERS}",
        "--worker-class=sync",
        f"--bind={HOST}:{port}",
        "--log-level=warning",
        "--timeout=60",
        "--no-control-socket",
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=root,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port=port, process=process, log=log)
    try:
        _wait_ready(server, probe)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: Server, probe: Endpoint) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {server.log}:\n{server.log.read_text()}")
        with contextlib.suppress(OSError):
            status, _ = request(server.port, probe, timeout=2)
            if status == probe.expect:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {READY_TIMEOUT} s; see {server.log}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group of the gunicorn we started (master and its workers)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install wrk` (Debian), or run `make bench`, "
            "which installs it."
        )
    return path


def _lua(value: str) -> str:
    # JSON string literals of ASCII text are valid Lua string literals.
    return json.dumps(value, ensure_ascii=True)


def write_script(endpoint: Endpoint, directory: Path) -> Path:
    lines = [f"wrk.method = {_lua(endpoint.method)}"]
    if endpoint.body:
        lines.append(f"wrk.body = {_lua(endpoint.body)}")
    for name, value in endpoint.headers().items():
        lines.append(f"wrk.headers[{_lua(name)}] = {_lua(value)}")
    lines += [
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        "  io.write(string.format(",
        f'    "{MARKER}{{\\"requests\\": %d, \\"duration_us\\": %d, \\"status_errors\\": %d, "',
        '      .. "\\"socket_errors\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d}\\n",',
        "    summary.requests, summary.duration, e.status,",
        "    e.connect + e.read + e.write + e.timeout,",
        "    latency:percentile(50), latency:percentile(99)))",
        "end",
    ]
    script = directory / f"wrk-{endpoint.op}-{endpoint.scheme}.lua"
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o600)  # holds a bench-only credential
    return script


def workers_cpu_seconds(master_pid: int) -> float | None:
    """User + system CPU time of the gunicorn workers (the master's children), from /proc."""
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return None
    ticks = 0
    for pid in entries:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == master_pid:  # ppid
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def drive(server: Server, endpoint: Endpoint, script: Path, seconds: float) -> Run:
    """One bounded wrk run: CONNECTIONS connections for `seconds`, against 127.0.0.1 only."""
    command = [
        wrk_path(),
        "--threads=1",
        f"--connections={CONNECTIONS}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={script}",
        server.base_url + endpoint.path,
    ]
    cpu_before = workers_cpu_seconds(server.process.pid)
    result = subprocess.run(  # noqa: S603 - our own command line
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    cpu_after = workers_cpu_seconds(server.process.pid)
    line = next((x for x in result.stdout.splitlines() if x.startswith(MARKER)), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed for {endpoint.key}:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len(MARKER) :])
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        status_errors=data["status_errors"],
        socket_errors=data["socket_errors"],
        server_cpu_seconds=None if cpu_before is None else cpu_after - cpu_before,
    )
