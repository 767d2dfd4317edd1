"""One POST to a checked address: no redirects (http.client follows none), a timeout, and the
connection made to the IP that events.ssrf approved, with the URL's name as Host and TLS SNI
(the certificate is verified against that name)."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from events.ssrf import Target

MAX_RESPONSE_BYTES = 64 * 1024


def _connect(addresses: tuple[str, ...], port: int, timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers (never to a name)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("No address to connect to.")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=tls_context())
        self._addresses = target.addresses

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def tls_context() -> ssl.SSLContext:
    """The system's trust store, certificate and host name checked (a seam for the tests)."""
    return ssl.create_default_context()


@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Outcome:
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout)
    started = time.monotonic()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status, error = response.status, ""
        if 300 <= status < 400:
            error = "Redirects are not followed."
    except TimeoutError:
        status, error = None, f"Timed out after {timeout:g} s."
    except (OSError, http.client.HTTPException) as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:300]
    finally:
        connection.close()
    return Outcome(status, error, int((time.monotonic() - started) * 1000))
