"""TAP_UPLOAD from an http(s) URL (TAP 1.1 §2.5.6), without letting a caller use the server to
reach what only the server can reach (issue #13: server-side request forgery).

- The host is resolved once, and every address it resolves to must be public: not loopback,
  link-local, private, multicast, reserved or unspecified (an IPv4-mapped IPv6 address is judged
  by its IPv4 address), unless the operator allows its network in ``LICK_UPLOAD_ALLOW_NETWORKS``
  (comma-separated, e.g. ``127.0.0.1/32``; empty by default).
- The connection goes to the checked address itself: no second lookup can answer differently.
- Redirects are not followed (refused as ``HTTP 302``): the caller can give the final URL.
- One deadline covers connecting, the request and every read; the body is cut at the size limit.
- What the far side said (its body, the operating system's error text) never reaches the caller:
  only "refused address", "timed out", "HTTP <status>", "connection failed" and the like.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from urllib.parse import urlsplit

from archive.config import DEFAULT_ENV_FILE, read_env_file
from vo_services.tap import limits

ALLOW_SETTING = "LICK_UPLOAD_ALLOW_NETWORKS"
READ_BYTES = 64 * 1024

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """The URL was not fetched; the message is safe to show the caller."""


def allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The operator's exceptions to the public-address rule (read at each fetch: tests set it)."""
    value = os.environ.get(ALLOW_SETTING) or read_env_file(DEFAULT_ENV_FILE).get(ALLOW_SETTING, "")
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in value.split(",") if n.strip())


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_loopback or address.is_link_local or address.is_private or address.is_multicast
        or address.is_reserved or address.is_unspecified)


def checked_address(host: str, port: int) -> tuple:
    """``getaddrinfo``'s first entry for the host, if every address it has may be reached."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchRefused("unknown host") from None
    allowed = allowed_networks()
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not (is_public(address) or any(address in network for network in allowed)):
            raise FetchRefused("refused address")
    return found[0]


def fetch_url(url: str, limit: int) -> bytes:
    """The body of ``url`` (a 200 answer), at most ``limit`` bytes, within the fetch deadline."""
    deadline = time.monotonic() + limits.UPLOAD_FETCH_S
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchRefused("malformed URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused("malformed URL")
    family, kind, proto, _, sockaddr = checked_address(parts.hostname, port)
    connection = None
    try:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(_remaining(deadline))
        sock.connect(sockaddr)  # the checked address: no second lookup
        if parts.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
            connection = http.client.HTTPSConnection(parts.hostname, port, context=context)
        else:
            connection = http.client.HTTPConnection(parts.hostname, port)
        connection.sock = sock  # http.client connects only when it has no socket
        sock.settimeout(_remaining(deadline))
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                           headers={"Accept": "application/x-votable+xml, text/xml, */*"})
        response = connection.getresponse()
        if response.status != 200:
            raise FetchRefused(f"HTTP {response.status}"
                               + (" (redirects are not followed)" if 300 <= response.status < 400 else ""))
        return _body(response, sock, limit, deadline)
    except TimeoutError:
        raise FetchRefused("timed out") from None
    except (OSError, http.client.HTTPException, ValueError):
        raise FetchRefused("connection failed") from None
    finally:
        if connection is not None:
            connection.close()


def _body(response: http.client.HTTPResponse, sock: socket.socket, limit: int, deadline: float) -> bytes:
    length = response.getheader("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        raise FetchRefused(f"larger than {limit} bytes")
    data = bytearray()
    while True:
        sock.settimeout(_remaining(deadline))  # the time left, not a fresh timeout per read
        chunk = response.read1(READ_BYTES)
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > limit:
            raise FetchRefused(f"larger than {limit} bytes")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left
