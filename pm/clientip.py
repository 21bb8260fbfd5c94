"""The client's address, trusting `X-Forwarded-For` only from configured proxies.

`TRUSTED_PROXIES` lists the addresses (or CIDR networks) of the reverse proxies in front of
Lodestar. A request whose direct peer (`REMOTE_ADDR`) is one of them has its `X-Forwarded-For`
read from the right, skipping further trusted proxies: the first address that is not a proxy is
the client. Any other peer is the client itself, whatever header it sends, so a rotating or
spoofed header from the internet changes nothing (no unlimited guesses, no locking out a victim
by naming their address).
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: list[str] | tuple[str, ...]) -> tuple[Network, ...]:
    """`["10.0.0.0/8", "127.0.0.1"]` as networks; a bad entry fails loudly at start-up."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {value!r} is not an IP address or CIDR network."
            ) from exc
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:5123"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client as far as we can trust it (a string, "unknown" when absent)."""
    peer = _ip(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return "unknown"
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not _trusted(peer, networks):
        return str(peer)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:  # garbage in the chain: stop at the last address we could trust
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
