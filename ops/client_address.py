"""Which address a request comes from, when proxies may stand in between.

REMOTE_ADDR is the direct peer. Only when that peer is one of settings.TRUSTED_PROXIES is
X-Forwarded-For believed, and then only as far as the chain of trusted proxies reaches:
walking from the right (the hop the nearest proxy appended), the client is the first address
that is not a trusted proxy. Everything to its left was written by the client and may be
made up. docs/security.md explains the setting."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as a string, or None when the peer has no IP address."""
    address = _parse(request.META.get("REMOTE_ADDR", ""))
    if address is None:
        return None
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if networks:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        for hop in reversed(hops):
            if not _trusted(address, networks):
                break
            forwarded = _parse(hop)
            if forwarded is None:
                # A trusted proxy wrote something that is not an address ("unknown", an
                # obfuscated name): what lies to its left cannot be believed either, so the
                # proxy itself is the nearest address known.
                break
            address = forwarded
    return str(address)


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(network.strip(), strict=False) for network in trusted)


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


@lru_cache(maxsize=4096)  # the same few addresses come again and again; parsing is not free
def _parse(raw: str) -> IPAddress | None:
    """An address as proxies write it: `203.0.113.5`, `2001:db8::1`, with a port
    (`203.0.113.5:4711`, `[2001:db8::1]:4711`) or brackets; anything else is None."""
    text = raw.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:
            # A zone (fe80::1%eth0) names an interface of the proxy, not the client.
            return ipaddress.IPv6Address(text.split("%", 1)[0])
    return address
