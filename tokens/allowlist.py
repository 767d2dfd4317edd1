"""Per-token IP allowlists: up to 20 IPv4/IPv6 addresses or CIDR ranges, stored normalized
("203.0.113.0/24", "2001:db8::/32"; one address as /32 or /128). Empty means anywhere.
The client's address is ops.client_address.client_ip (TRUSTED_PROXIES, docs/security.md)."""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from lib.errors import RuleError

MAX_ENTRIES = 20
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def clean(entries: Iterable[str]) -> list[str]:
    """Normalized, deduplicated, in the given order; RuleError (field `allowed_ips`) for an
    entry that is not an address or range, or for more than 20."""
    networks: list[str] = []
    for entry in entries:
        text = (entry or "").strip()
        if not text:
            continue
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise RuleError(
                f"“{text[:60]}” is not an IPv4 or IPv6 address or CIDR range "
                "(e.g. 203.0.113.7, 203.0.113.0/24, 2001:db8::/32).",
                field="allowed_ips",
            ) from None
        if str(network) not in networks:
            networks.append(str(network))
    if len(networks) > MAX_ENTRIES:
        raise RuleError(
            f"Give at most {MAX_ENTRIES} addresses or ranges ({len(networks)} given).",
            field="allowed_ips",
        )
    return networks


def split_lines(text: str) -> list[str]:
    """A form's textarea: one entry per line (commas and spaces separate too)."""
    return text.replace(",", " ").split()


@lru_cache(maxsize=1024)
def _networks(allowed: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry) for entry in allowed)


def allows(allowed: Iterable[str], address: str | None) -> bool:
    allowed = tuple(allowed)
    if not allowed:
        return True
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:203.0.113.7 is 203.0.113.7
    return any(ip.version == net.version and ip in net for net in _networks(allowed))


def within(narrower: Iterable[str], wider: Iterable[str]) -> bool:
    """Whether every range of `narrower` lies inside one of `wider` (an empty `wider` is
    anywhere; an empty `narrower` is anywhere too, so not within a non-empty `wider`)."""
    wider = tuple(wider)
    if not wider:
        return True
    narrower = tuple(narrower)
    if not narrower:
        return False
    outer = _networks(wider)
    return all(
        any(net.version == o.version and net.subnet_of(o) for o in outer)
        for net in _networks(narrower)
    )
