"""Redirect URIs and redirect-URI patterns, for the registration proxy (a leaf module, like settings).

A redirect URI is parsed into its parts once (`parse_uri`); the rules every registered URI must
follow live in `app/auth/registration/request.py`. A *pattern* (DCR_REDIRECT_URI_PATTERNS,
DCR_STATIC_REDIRECT_URIS) is a redirect URI with at most three wildcards, nothing else special:

- port `*`: any port. `http://127.0.0.1:*/callback` is how desktop clients are allowed: they
  listen on a port the operating system picks at each run (RFC 8252 §7.3);
- host `*.example.com`: exactly one DNS label in place of the `*`;
- a final `*`: any rest of the path and query (`https://app.example.com/oauth/*`).

Why not fnmatch: its `*` also matches `/`, `@` and `:`, so `https://*.example.com/*` would accept
`https://evil.test/x.example.com/`. Patterns are matched part by part instead: scheme and host
case-insensitively, port exactly (an absent port is the scheme's default), path and query exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})
ANY_PORT = -1
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class UriError(ValueError):
    """A redirect URI or pattern that cannot be used; the message says why (for error_description)."""


@dataclass(frozen=True)
class UriParts:
    """A URI split without normalising anything but the case of scheme and host."""

    scheme: str
    host: str | None
    """Lower-cased; IPv6 literals keep their brackets. None for URIs without an authority."""
    port: int | None
    """None when absent; ANY_PORT only in patterns."""
    target: str
    """Path plus `?query`: what comes after the authority, fragment excluded."""
    has_userinfo: bool
    has_fragment: bool

    @property
    def effective_port(self) -> int | None:
        return self.port if self.port is not None else _DEFAULT_PORTS.get(self.scheme)

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS


def parse_uri(text: str, *, pattern: bool = False) -> UriParts:
    """Split `text` into its parts.

    Raises:
        UriError: not an absolute URI, or a malformed authority or port.
    """
    if not text or any(ord(c) <= 0x20 or ord(c) >= 0x7F or c == "\\" for c in text):
        raise UriError("must be printable ASCII without spaces or backslashes")
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or not _SCHEME.fullmatch(scheme):
        raise UriError("must be an absolute URI (scheme:...)")
    rest, hash_sign, _ = rest.partition("#")
    host: str | None = None
    port: int | None = None
    userinfo = False
    if rest.startswith("//"):
        after_slashes = rest[2:]
        # The authority ends at the first "/" or "?" (`https://host?x` has an empty path and a query).
        end = min((i for i in (after_slashes.find("/"), after_slashes.find("?")) if i >= 0),
                  default=len(after_slashes))
        authority, target = after_slashes[:end], after_slashes[end:]
        if scheme in _DEFAULT_PORTS and not target.startswith("/"):
            target = "/" + target  # RFC 3986 §6.2.3: an empty http(s) path is "/"
        userinfo = "@" in authority
        authority = authority.rpartition("@")[2]
        host, port = _split_authority(authority, pattern)
    else:
        target = rest
    return UriParts(scheme, host, port, target, userinfo, bool(hash_sign))


def _split_authority(authority: str, pattern: bool) -> tuple[str, int | None]:
    authority = authority.lower()
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise UriError("has an unbalanced IPv6 bracket")
        host, after = authority[: end + 1], authority[end + 1 :]
        if after and not after.startswith(":"):
            raise UriError("has a malformed authority")
        port_text = after[1:] if after else None
    else:
        host, colon, port_text_raw = authority.partition(":")
        port_text = port_text_raw if colon else None
    if not host:
        raise UriError("has no host")
    if port_text is None or port_text == "":
        return host, None
    if pattern and port_text == "*":
        return host, ANY_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UriError(f"has an invalid port {port_text!r}")
    return host, int(port_text)


@dataclass(frozen=True)
class RedirectPattern:
    """One allowed redirect URI, possibly with wildcards (see the module docstring)."""

    text: str
    parts: UriParts
    host_suffix: str | None
    """`.example.com` for a `*.example.com` host, else None."""
    target_prefix: bool

    @classmethod
    def parse(cls, text: str) -> RedirectPattern:
        """Raises: UriError naming what is wrong with the pattern."""
        parts = parse_uri(text, pattern=True)
        if parts.has_fragment or parts.has_userinfo:
            raise UriError("must not have a fragment or user information")
        prefix = parts.target.endswith("*")
        if "*" in parts.target[:-1] if prefix else "*" in parts.target:
            raise UriError("may have '*' only as its last character, as the port, or as the host's first label")
        suffix = None
        if parts.scheme in ("http", "https"):
            suffix = _host_suffix(parts)
            if parts.scheme == "http" and not parts.loopback:
                raise UriError("may use http only with a loopback host (127.0.0.1, [::1], localhost)")
        elif parts.host is not None or "." not in parts.scheme:
            # RFC 8252 §7.1: private-use schemes are reverse domain names, e.g. com.example.app:/callback.
            raise UriError("must be http(s)://... or a private-use scheme like com.example.app:/callback")
        if parts.port == ANY_PORT and not parts.loopback:
            raise UriError("may use port '*' only with a loopback host: only desktop clients pick random ports")
        return cls(text, parts, suffix, prefix)

    def matches(self, uri: UriParts) -> bool:
        pattern = self.parts
        if uri.scheme != pattern.scheme:
            return False
        if self.host_suffix is not None:
            label = (uri.host or "")[: -len(self.host_suffix)]
            if not (uri.host or "").endswith(self.host_suffix) or not _LABEL.fullmatch(label):
                return False
        elif uri.host != pattern.host:
            return False
        if pattern.port != ANY_PORT and uri.effective_port != pattern.effective_port:
            return False
        if self.target_prefix:
            return uri.target.startswith(pattern.target[:-1])
        return uri.target == pattern.target


def _host_suffix(parts: UriParts) -> str | None:
    host = parts.host or ""
    if "*" not in host:
        return None
    if not host.startswith("*.") or "*" in host[2:] or host.count(".") < 2:
        raise UriError("may use '*' in the host only as the first label of a domain with two more (*.example.com)")
    return host[1:]


def parse_patterns(texts: tuple[str, ...]) -> tuple[RedirectPattern, ...]:
    """Raises: UriError whose message starts with the offending pattern."""
    patterns = []
    for text in texts:
        try:
            patterns.append(RedirectPattern.parse(text))
        except UriError as exc:
            raise UriError(f"{text!r} {exc}") from None
    return tuple(patterns)
