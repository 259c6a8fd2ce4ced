"""Who is the client: the one place that says where a request comes from, for the
limits that count per client (logins, starting contacts) and for a chat's sender key.

The answer is a keyed hash of the client's address, never the address: the key is made
at random when the process starts and is never stored, so the hashes mean nothing
outside this process and nothing after it stops. An IPv6 client is its /64 network (one
home or phone gets a whole /64, and could otherwise count as billions of clients).

Behind a reverse proxy every request comes from the proxy. Only when the peer is one of
``HELPLINE_TRUSTED_PROXIES`` is ``X-Forwarded-For`` believed, and then only its
right-most entry that is not a trusted proxy: every proxy appends the address it saw, so
the entries to its left are whatever the client chose to send."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web

from .keys import SETTINGS

_KEY = secrets.token_bytes(32)  # per process, never stored or logged

Address = IPv4Address | IPv6Address
Networks = Sequence[IPv4Network | IPv6Network]


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 203.0.113.5:443 (some proxies add the port)
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    return address


def _trusted(address: Address | None, proxies: Networks) -> bool:
    return address is not None and any(address in network for network in proxies)


def _client(peer: str | None, forwarded_for: Sequence[str], proxies: Networks) -> Address | str:
    """The client's address, or (not an address) what stands for it as written."""
    here = _parse(peer or "")
    if _trusted(here, proxies):
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            here = _parse(hop)
            if not _trusted(here, proxies):
                if here is None:  # not an address: what the last trusted proxy passed on, as is
                    return hop[:100]
                break
    if here is None:
        return peer or "-"  # a Unix socket: one client
    return here


def client_address(peer: str | None, forwarded_for: Sequence[str], proxies: Networks) -> str:
    """The client's address (an IPv6 one as its /64) from the socket's peer and the
    ``X-Forwarded-For`` headers; what an untrusted proxy chain claims is kept as written."""
    here = _client(peer, forwarded_for, proxies)
    if isinstance(here, str):
        return here
    if isinstance(here, IPv6Address):
        return str(IPv6Network((here, 64), strict=False))
    return str(here)


def request_address(request: web.Request) -> str:
    """The client's address for this request (see ``client_address``): to be hashed at
    once by whoever counts or keys by it, never kept or logged as it is."""
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                          request.app[SETTINGS].trusted_proxies)


def request_ip(request: web.Request) -> Address | None:
    """The client's own address for this request (see ``client_address``), None if it has
    none: to check against a list of allowed addresses, never kept or logged."""
    here = _client(request.remote, request.headers.getall("X-Forwarded-For", []),
                   request.app[SETTINGS].trusted_proxies)
    return None if isinstance(here, str) else here


def client_key(request: web.Request) -> str:
    """The client, as a keyed hash of its address (see the module's description)."""
    return hmac.new(_KEY, request_address(request).encode(), hashlib.sha256).hexdigest()[:32]
