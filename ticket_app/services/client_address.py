"""The address of the client behind a request, seen through trusted reverse proxies.

Behind a load balancer every request's TCP peer is the balancer, so limits "per client address"
(sign-in failures, the API rate limits of anonymous callers) would count every client together:
one attacker's failures would lock everyone out. The balancer tells who its client was in
`X-Forwarded-For`, appending that client's address to whatever the request already carried.

Only entries appended by proxies we trust are worth anything. A client can send its own
`X-Forwarded-For: 203.0.113.9` (or a long list); a proxy appends to it rather than replacing
it, so the leftmost values are whatever the client chose. Hence the standard algorithm: believe
the header only when the peer is a trusted proxy (`TRUSTED_PROXIES`), walk it from the right,
step over the trusted proxies, and stop at the first address that is not one: that address was
written by a proxy we trust, about a machine we do not, and is the client. Nothing to its left
is read. With no trusted proxies configured (the default) the header is ignored entirely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from ticket_app.settings import get_settings

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

FORWARDED_FOR = "x-forwarded-for"


def _parse(text: str) -> Address | None:
    """An address from a peer or an X-Forwarded-For entry, or None if it is not one.

    Accepts the forms proxies write: `192.0.2.1`, `2001:db8::1`, and with a port
    `192.0.2.1:443` or `[2001:db8::1]:443`. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, a
    dual-stack socket's view of an IPv4 client) is the IPv4 address.
    """
    text = text.strip()
    if text.startswith("["):
        text, bracket, _ = text[1:].partition("]")
        if not bracket:
            return None
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(
    peer: str | None,
    forwarded_for: str | None,
    *,
    trusted: Sequence[Network] | None = None,
) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy.

    `peer` is the TCP peer (`request.client.host`), `forwarded_for` the X-Forwarded-For value
    (several header lines joined by commas, in order), `trusted` the trusted proxies (default:
    the `trusted_proxies` setting).

    When the peer is trusted, the entries of `forwarded_for` are walked from the right: trusted
    proxies are stepped over, the first address that is not trusted is the answer. Empty
    entries are skipped (list syntax). A malformed entry (`unknown`, a host name, garbage) ends
    the walk at the last trusted hop, since everything from it leftwards may be the client's
    own invention; so does a missing header. If every entry is a trusted proxy, the leftmost
    is the answer. An untrusted peer, a peer that is not an IP address (`testclient`, a Unix
    socket) and an empty `trusted` give the peer unchanged: the header is not read at all.
    """
    networks = get_settings().trusted_proxies if trusted is None else trusted
    if peer is None or not networks:
        return peer
    hop = _parse(peer)
    if hop is None or not _trusted(hop, networks):
        return peer
    for entry in reversed((forwarded_for or "").split(",")):
        if not entry.strip():
            continue
        address = _parse(entry)
        if address is None:
            break
        hop = address
        if not _trusted(address, networks):
            break
    return str(hop)


def forwarded_for_value(lines: Iterable[str]) -> str | None:
    """X-Forwarded-For header lines as one comma-separated list, or None without any.

    Several lines mean the same as one joined by commas, in order; HAProxy's
    `option forwardfor` adds its own line rather than extending the client's.
    """
    values = list(lines)
    return ", ".join(values) if values else None
