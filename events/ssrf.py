"""Where a webhook may be sent. An endpoint URL is checked when it is saved and again at every
delivery, and the delivery connects to the very address that was checked (events/http.py), so
a name that re-resolves to an internal address between the two (DNS rebinding) gains nothing."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services: never a target, even where private targets are allowed.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeTarget(ValueError):
    """The URL is malformed, not HTTPS, or reaches an address webhooks may not reach."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]  # the checked IP addresses, tried in this order

    @property
    def address(self) -> str:
        return self.addresses[0]


def _refusal(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified or ip.is_multicast:
        return "an unspecified or multicast address"
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "a private or reserved address"
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeTarget(f"The host name “{host}” does not resolve.") from error
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def check(url: str) -> Target:
    """Parse, resolve and check `url`. Every address the name resolves to must be allowed
    (the connection tries them in order), so no address can be picked to get around this."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeTarget("Enter a valid URL.") from error
    allowed = {"https"} if settings.WEBHOOKS_REQUIRE_HTTPS else {"https", "http"}
    if parts.scheme not in allowed:
        raise UnsafeTarget("The endpoint URL must start with https://.")
    if not parts.hostname:
        raise UnsafeTarget("Enter a valid URL.")
    if parts.username or parts.password:
        raise UnsafeTarget("The endpoint URL may not contain a user name or password.")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port)
    if not addresses:
        raise UnsafeTarget(f"The host name “{parts.hostname}” does not resolve.")
    for ip in addresses:
        if reason := _refusal(ip):
            raise UnsafeTarget(
                f"Webhooks cannot be sent to {parts.hostname}: it resolves to {reason} ({ip})."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, tuple(str(ip) for ip in addresses))
