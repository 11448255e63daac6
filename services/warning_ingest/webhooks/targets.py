"""Where a webhook may point (API.md: `url_not_allowed`).

At registration a URL must be http(s), carry no credentials, and name a host
in WARNEX_WEBHOOK_ALLOWED_HOSTS. At each delivery the host is checked again
(the list may have shrunk) and resolved; every address it resolves to must be
public, or be listed itself, so that a name whose DNS later points inside
(loopback, private, link-local) cannot turn a webhook against the server's
own network. The request then goes to the address that was checked, so a
second lookup cannot answer differently.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from shared.errors import invalid

MAX_URL_LENGTH = 2000
# Host names as DNS writes them (an internationalised name in its xn-- form).
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The delivery must not be sent; `code` says why (kept with the attempt)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _address(text: str) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def normalised_host(host: str) -> str:
    """A host as the allowed list is compared: lower-case, an address in its short form."""
    host = host.strip().lower().strip("[]")
    address = _address(host)
    return str(address) if address is not None else host.rstrip(".")


def _split(url: str) -> tuple[SplitResult, str]:
    bad = invalid("url", "invalid_url", "url must be an absolute http or https URL")
    if len(url) > MAX_URL_LENGTH or _UNSAFE_CHARACTERS.search(url) or not url.isascii():
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
        host = parts.hostname
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise bad
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise invalid("url", "url_has_credentials", "url must not carry a user name or password")
    if _address(host) is None and not _HOST_NAME.match(host):
        raise bad
    return parts, normalised_host(host)


def check_url(url: str, allowed: frozenset[str]) -> str:
    """The URL a subscription keeps (fragment dropped), or 422: `invalid_url`
    (unparseable, not http/https), `url_has_credentials` (`user:pw@`),
    `url_not_allowed` (its host is not in `allowed`)."""
    parts, host = _split(url)
    if host not in {normalised_host(h) for h in allowed}:
        raise invalid(
            "url", "url_not_allowed", "the url's host is not in the deployment's allowed list"
        )
    return parts._replace(fragment="").geturl()


@dataclass(frozen=True)
class Target:
    """A URL with the address to connect to and the name to present (Host, TLS SNI)."""

    url: str
    host: str
    address: str


def _internal(address: IpAddress) -> bool:
    return not address.is_global or address.is_multicast


async def resolve_target(url: str, allowed: frozenset[str]) -> Target:
    """The checked address to send `url`'s request to; TargetRefused if none may be used."""
    try:
        parts, host = _split(url)
    except Exception:
        raise TargetRefused("invalid_url") from None
    listed = {normalised_host(h) for h in allowed}
    if host not in listed:
        raise TargetRefused("host_not_allowed")
    literal = _address(host)
    if literal is not None:
        addresses = [literal]
    else:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            raise TargetRefused("dns_error") from None
        addresses = [a for a in (_address(str(info[4][0])) for info in infos) if a is not None]
        if not addresses:
            raise TargetRefused("dns_error")
    for address in addresses:
        if _internal(address) and str(address) not in listed:
            raise TargetRefused("address_not_allowed")
    return Target(url=url, host=host, address=str(addresses[0]))
