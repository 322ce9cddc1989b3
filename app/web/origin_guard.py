"""Origin and Host checks that keep browsers on other sites (and DNS
rebinding) away from /mcp. Pure functions over settings, so they are easy to test."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.settings import Settings

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def _hostname(netloc: str) -> str:
    """Host part of host[:port], keeping IPv6 brackets, lower-cased."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def origin_allowed(origin: str | None, settings: Settings) -> bool:
    """Streamable HTTP: a present, invalid Origin must be refused (403).

    Loopback origins on any port are allowed; others must be listed in
    MCP_ALLOWED_ORIGINS. Requests without Origin (curl, SDKs) are not from a browser.
    """
    if origin is None:
        return True
    origin = origin.strip().lower()
    if origin in settings.allowed_origins:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. an unbalanced IPv6 bracket: not an origin we serve
        return False
    return parts.scheme in ("http", "https") and _hostname(parts.netloc) in _LOOPBACK_HOSTS


def host_allowed(host: str | None, settings: Settings) -> bool:
    """Guard against DNS rebinding: without authentication only loopback
    hosts, the public URL's host and MCP_ALLOWED_HOSTS are answered."""
    if not host:
        return False
    name = _hostname(host)
    if name in _LOOPBACK_HOSTS:
        return True
    allowed = {_hostname(h) for h in settings.allowed_hosts}
    if settings.public_url:
        allowed.add(_hostname(urlsplit(settings.public_url).netloc))
    if name in allowed:
        return True
    # With authentication on, a token is required anyway; the list is opt-in.
    return settings.auth_enabled and not settings.allowed_hosts
