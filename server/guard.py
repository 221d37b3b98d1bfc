"""What a web page could make a browser send to a local server: refused before any handler.

On a server in "local" mode a loopback connection from the owner's OS user needs no token,
and a web page in that user's browser makes such connections too. So, in local mode:
- the Host must be one of the server's own names or an address (a DNS-rebinding page
  sends its own name, which is neither);
- a write (anything but GET, HEAD, OPTIONS) must be JSON, which a page on another site
  cannot send without a CORS preflight that this server never grants, and its Origin, when
  the browser sends one, must be the server's own.
Clients that are not browsers (ours, curl) send no Origin, and any Host they use names us.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Iterable

from aiohttp import web

from jobmon import errors
from jobmon.server.http import ApiError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JSON_TYPES = ("application/json",)


def _host_name(netloc: str) -> str | None:
    """The host of ``host[:port]`` or ``[v6]:port``, lower case; None if malformed."""
    try:
        parts = urllib.parse.urlsplit("//" + netloc)
        name = parts.hostname
        _ = parts.port  # a malformed port raises
    except ValueError:
        return None
    if not name or any(c in netloc for c in "/?#@\\ \t"):
        return None
    return name.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def _netloc(scheme: str, netloc: str) -> tuple[str, int] | None:
    """(host, port) with the scheme's default port made explicit."""
    try:
        parts = urllib.parse.urlsplit(f"{scheme}://{netloc}")
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return None
    return (parts.hostname or "").rstrip("."), port


class BrowserGuard:
    """Refuses the requests a hostile web page could make on a local server."""

    def __init__(self, listen_host: str, extra_names: Iterable[str] = ()) -> None:
        names = {"localhost", socket.gethostname().lower()}
        if listen_host and not _is_address(listen_host):
            names.add(listen_host.lower())
        names.update(name.strip().lower().rstrip(".") for name in extra_names if name.strip())
        self.names = frozenset(names)

    def own_host(self, name: str) -> bool:
        """Whether a Host names this server: one of its names, or an address literal."""
        # an address needs no DNS, so no page can rebind it; *.localhost never leaves the host
        return name in self.names or name.endswith(".localhost") or _is_address(name)

    def check(self, request: web.Request) -> None:
        host_header = request.headers.get("Host")
        if host_header is not None:
            name = _host_name(host_header)
            if name is None or not self.own_host(name):
                raise ApiError(
                    421, errors.CODE_FORBIDDEN,
                    f"this server does not answer to the name {host_header[:100]!r}: a "
                    "local server answers only to localhost, its addresses and its own names "
                    "(more with the setting server.allowed_hosts)")
        if request.method in SAFE_METHODS:
            return
        if request.content_type not in JSON_TYPES:
            raise ApiError(415, errors.CODE_INVALID,
                           f"a {request.method} request must have Content-Type: "
                           "application/json, with a body or without (curl: -H "
                           "'Content-Type: application/json')")
        origin = request.headers.get("Origin")
        if origin is not None and not self._same_origin(origin, host_header):
            raise ApiError(403, errors.CODE_FORBIDDEN,
                           f"a request from the web page at {origin[:100]!r} may not change "
                           "anything on this server")

    def _same_origin(self, origin: str, host_header: str | None) -> bool:
        scheme, _, netloc = origin.partition("://")
        if scheme not in ("http", "https") or not netloc:
            return False  # "null" (a sandboxed frame, a file:// page) and the like
        found = _netloc(scheme, netloc)
        if found is None or not self.own_host(found[0]):
            return False
        if host_header is None:
            return True
        # the page's own origin is the server the browser sent the request to
        return found == _netloc(scheme, host_header)
