"""Redirect-URI patterns: what each wildcard matches, and the near misses it must not."""

from __future__ import annotations

import pytest

from app.redirect_uris import ANY_PORT, RedirectPattern, UriError, parse_patterns, parse_uri


def matches(pattern: str, uri: str) -> bool:
    return RedirectPattern.parse(pattern).matches(parse_uri(uri))


@pytest.mark.parametrize(
    ("pattern", "uri"),
    [
        ("http://127.0.0.1:*/callback", "http://127.0.0.1:51004/callback"),
        ("http://127.0.0.1:*/callback", "http://127.0.0.1/callback"),
        ("http://[::1]:*/*", "http://[::1]:61023/oauth2redirect/example-provider"),
        ("http://localhost:*/*", "http://localhost:3000"),  # an empty http path is "/"
        ("http://LOCALHOST:*/*", "HTTP://localhost:3000/cb?x=1"),  # scheme and host case-insensitive
        ("https://app.example.com/oauth/callback", "https://app.example.com:443/oauth/callback"),
        ("https://app.example.com/oauth/*", "https://app.example.com/oauth/done?state=1"),
        ("https://*.example.com/cb", "https://tenant-1.example.com/cb"),
        ("com.example.app:/callback", "com.example.app:/callback"),
        ("com.example.app:/*", "com.example.app:/oauth/redirect"),
    ],
)
def test_patterns_match_what_they_describe(pattern: str, uri: str) -> None:
    assert matches(pattern, uri)


@pytest.mark.parametrize(
    ("pattern", "uri"),
    [
        ("http://127.0.0.1:*/callback", "http://127.0.0.1:51004/callback/extra"),
        ("http://127.0.0.1:*/callback", "http://localhost:51004/callback"),  # RFC 8252: no cross-matching
        ("http://127.0.0.1:8080/callback", "http://127.0.0.1:8081/callback"),
        ("https://app.example.com/oauth/callback", "https://app.example.com:8443/oauth/callback"),
        ("https://app.example.com/oauth/callback", "http://app.example.com/oauth/callback"),
        ("https://app.example.com/oauth/callback", "https://app.example.com/oauth/callback?x=1"),
        ("https://app.example.com/oauth/*", "https://app.example.com/oauthx"),
        # fnmatch would accept these: a `*` must never swallow a "/" or a ".".
        ("https://*.example.com/*", "https://evil.test/x.example.com/"),
        ("https://*.example.com/cb", "https://a.b.example.com/cb"),
        ("https://*.example.com/cb", "https://example.com/cb"),
        ("https://*.example.com/cb", "https://evilexample.com/cb"),
        ("com.example.app:/callback", "com.example.evil:/callback"),
    ],
)
def test_patterns_refuse_near_misses(pattern: str, uri: str) -> None:
    assert not matches(pattern, uri)


def test_a_pattern_is_parsed_into_its_parts() -> None:
    pattern = RedirectPattern.parse("http://127.0.0.1:*/cb/*")

    assert (pattern.parts.scheme, pattern.parts.host, pattern.parts.port) == ("http", "127.0.0.1", ANY_PORT)
    assert (pattern.parts.target, pattern.target_prefix) == ("/cb/*", True)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("http://app.example.com/cb", "http only with a loopback host"),
        ("https://app.example.com:*/cb", "port '*' only with a loopback host"),
        ("https://app.example.com/*/cb", "'*' only as its last character"),
        ("https://*/cb", "first label of a domain with two more"),
        ("https://*.com/cb", "first label of a domain with two more"),
        ("https://a.*.example.com/cb", "first label of a domain with two more"),
        ("https://app.example.com/cb#frag", "fragment"),
        ("https://user@app.example.com/cb", "user information"),
        ("myapp://callback", "private-use scheme like com.example.app:/callback"),
        ("javascript:alert(1)", "private-use scheme"),
        ("/relative/callback", "absolute URI"),
        ("https://app.example.com:99999/cb", "invalid port"),
        ("https://[::1/cb", "unbalanced IPv6 bracket"),
        ("https://app.example.com/a b", "printable ASCII"),
    ],
)
def test_unusable_patterns_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(UriError, match=reason.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        RedirectPattern.parse(pattern)


def test_parse_patterns_names_the_offending_pattern() -> None:
    with pytest.raises(UriError, match=r"^'http://example.com/cb' may use http only"):
        parse_patterns(("http://127.0.0.1:*/cb", "http://example.com/cb"))


@pytest.mark.parametrize(
    ("uri", "host", "port", "target"),
    [
        ("https://h.example/p?q=1#f", "h.example", None, "/p?q=1"),
        ("https://h.example?x=/a", "h.example", None, "/?x=/a"),
        ("http://[::1]:8080/cb", "[::1]", 8080, "/cb"),
        ("com.example.app:/cb", None, None, "/cb"),
    ],
)
def test_uris_split_into_host_port_and_target(uri: str, host: str | None, port: int | None, target: str) -> None:
    parts = parse_uri(uri)

    assert (parts.host, parts.port, parts.target) == (host, port, target)
