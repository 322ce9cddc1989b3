"""Validation of an RFC 7591 registration request into `ClientMetadata`, before any backend sees it.

The proxy registers one kind of client only: a *public* client of the authorization-code flow
with PKCE, as MCP desktop and browser clients are. Everything else is refused with the RFC 7591
error that names the problem. Members this proxy does not know are dropped, as RFC 7591 §2
requires ("MUST ignore"), so nothing unchecked ever reaches the identity provider.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from app.auth.registration.errors import (
    INVALID_SOFTWARE_STATEMENT,
    RegistrationError,
    invalid_client_metadata,
    invalid_redirect_uri,
)
from app.redirect_uris import RedirectPattern, UriError, UriParts, parse_uri

MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
MAX_TEXT_LENGTH = 200
# The grants a public interactive client may use; refresh_token only together with authorization_code.
PUBLIC_GRANTS = ("authorization_code", "refresh_token")
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_DISPLAYED_URIS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
_TEXTS = ("client_name", "software_id", "software_version")


@dataclass(frozen=True)
class ClientMetadata:
    """A validated registration request: what the backends register and echo back."""

    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...] = ("code",)
    token_endpoint_auth_method: str = "none"
    client_name: str | None = None
    scope: str | None = None
    application_type: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Optional display metadata, validated: client_uri, logo_uri, tos_uri, policy_uri, contacts,
    software_id, software_version."""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "redirect_uris": list(self.redirect_uris),
            "grant_types": list(self.grant_types),
            "response_types": list(self.response_types),
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
        }
        optional = {"client_name": self.client_name, "scope": self.scope, "application_type": self.application_type}
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(self.extras)
        return body


def parse_registration(body: Any, allowed: tuple[RedirectPattern, ...],
                       provider: Mapping[str, Any] | None) -> ClientMetadata:
    """Check `body` (decoded JSON) against RFC 7591, this proxy's rules and what `provider` (the
    IdP's discovery document, None when unknown) says it supports.

    Raises:
        RegistrationError: 400 with the RFC 7591 error code naming the first problem found.
    """
    if not isinstance(body, dict):
        raise invalid_client_metadata("The registration request must be a JSON object")
    if "software_statement" in body:
        # Verifying one needs the issuer's key and a policy about what it may assert; none is configured.
        raise RegistrationError(400, INVALID_SOFTWARE_STATEMENT, "Software statements are not accepted here")
    redirect_uris = _redirect_uris(body.get("redirect_uris"), allowed)
    return ClientMetadata(
        redirect_uris=redirect_uris,
        grant_types=_grant_types(body.get("grant_types"), provider),
        response_types=_response_types(body.get("response_types"), provider),
        token_endpoint_auth_method=_auth_method(body.get("token_endpoint_auth_method"), provider),
        client_name=_text(body, "client_name"),
        scope=_scope(body.get("scope")),
        application_type=_application_type(body.get("application_type")),
        extras=_extras(body),
    )


def check_redirect_uri(text: Any) -> UriParts:
    """The rules every registered redirect URI follows, whatever the allowlist says.

    Raises:
        RegistrationError: invalid_redirect_uri naming the URI and the rule.
    """
    if not isinstance(text, str):
        raise invalid_redirect_uri("Each redirect URI must be a string")
    shown = text[:100]
    if len(text) > MAX_URI_LENGTH:
        raise invalid_redirect_uri(f"Redirect URI {shown!r}... is longer than {MAX_URI_LENGTH} characters")
    try:
        parts = parse_uri(text)
    except UriError as exc:
        raise invalid_redirect_uri(f"Redirect URI {shown!r} {exc}") from None
    if parts.has_fragment:
        raise invalid_redirect_uri(f"Redirect URI {shown!r} must not contain a fragment (RFC 6749 §3.1.2)")
    if parts.has_userinfo:
        raise invalid_redirect_uri(f"Redirect URI {shown!r} must not contain user information (user@host)")
    if _has_dot_segment(parts.target):
        # `/cb/../elsewhere` would leave an allowed path prefix once a browser resolves it.
        raise invalid_redirect_uri(f"Redirect URI {shown!r} must not contain '.' or '..' path segments")
    if parts.scheme == "http" and not parts.loopback:
        raise invalid_redirect_uri(
            f"Redirect URI {shown!r} uses http on a host that is not loopback; use https, or http with "
            "127.0.0.1, [::1] or localhost (RFC 8252 §7.3)")
    if parts.scheme in ("http", "https") and parts.host is None:
        raise invalid_redirect_uri(f"Redirect URI {shown!r} has no host")
    if parts.scheme not in ("http", "https") and (parts.host is not None or "." not in parts.scheme):
        raise invalid_redirect_uri(
            f"Redirect URI {shown!r} must use https, loopback http, or a private-use scheme named like a "
            "reversed domain (com.example.app:/callback, RFC 8252 §7.1)")
    return parts


def _redirect_uris(value: Any, allowed: tuple[RedirectPattern, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise invalid_redirect_uri("redirect_uris is required: a non-empty array of URIs (authorization code flow)")
    if len(value) > MAX_REDIRECT_URIS:
        raise invalid_redirect_uri(f"At most {MAX_REDIRECT_URIS} redirect URIs may be registered")
    for text in value:
        parts = check_redirect_uri(text)
        if not any(pattern.matches(parts) for pattern in allowed):
            raise invalid_redirect_uri(
                f"Redirect URI {text[:100]!r} is not allowed here (DCR_REDIRECT_URI_PATTERNS allows: "
                + ", ".join(p.text for p in allowed) + ")")
    return tuple(dict.fromkeys(value))


def _has_dot_segment(target: str) -> bool:
    path = unquote(target.split("?", 1)[0])
    return any(segment in (".", "..") for segment in path.split("/"))


def _string_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_client_metadata(f"{name} must be an array of strings")
    return list(dict.fromkeys(value))


def _grant_types(value: Any, provider: Mapping[str, Any] | None) -> tuple[str, ...]:
    grants = ["authorization_code"] if value is None else _string_list(value, "grant_types")  # RFC 7591 default
    for grant in grants:
        if grant not in PUBLIC_GRANTS:
            raise invalid_client_metadata(
                f"Grant type {grant[:60]!r} cannot be registered here: this proxy registers public clients of "
                "the authorization code flow (grant types authorization_code and refresh_token)")
    if "authorization_code" not in grants:
        raise invalid_client_metadata("grant_types must include authorization_code")
    supported = (provider or {}).get("grant_types_supported")
    if isinstance(supported, list):
        # When the IdP does not list its grants (Entra), it is not asked; RFC 8414's default would wrongly
        # rule out refresh_token.
        for grant in grants:
            if grant not in supported:
                raise invalid_client_metadata(f"The identity provider does not support grant type {grant!r}")
    return tuple(grants)


def _response_types(value: Any, provider: Mapping[str, Any] | None) -> tuple[str, ...]:
    types = ["code"] if value is None else _string_list(value, "response_types")
    if types != ["code"]:
        raise invalid_client_metadata(
            "response_types must be [\"code\"]: the authorization code flow is the only one registered here "
            f"(got {types[:5]!r})")
    supported = (provider or {}).get("response_types_supported")
    if isinstance(supported, list) and "code" not in supported:
        raise invalid_client_metadata("The identity provider does not support the response type 'code'")
    return ("code",)


def _auth_method(value: Any, provider: Mapping[str, Any] | None) -> str:
    if value is None:
        # RFC 7591's default is client_secret_basic; this proxy substitutes "none" (§3.2.1 allows it)
        # and says so in its answer, which the client must read.
        value = "none"
    if value != "none":
        raise invalid_client_metadata(
            f"token_endpoint_auth_method {str(value)[:60]!r} is not available: only public clients are "
            "registered here (\"none\", with PKCE). A secret handed to a desktop or browser app is not secret, "
            "and this proxy never issues one")
    methods = (provider or {}).get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise invalid_client_metadata(
            "The identity provider does not offer PKCE with S256, which public clients need")
    return "none"


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    # Shown on consent screens and written to the audit log: short, one line.
    if not isinstance(value, str) or not value.isprintable() or not 0 < len(value) <= MAX_TEXT_LENGTH:
        raise invalid_client_metadata(f"{name} must be a printable string of 1 to {MAX_TEXT_LENGTH} characters")
    return value


def _scope(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.split() or not all(_SCOPE_TOKEN.fullmatch(s) for s in value.split()):
        raise invalid_client_metadata("scope must be a space-separated list of OAuth scopes")
    return " ".join(dict.fromkeys(value.split()))


def _application_type(value: Any) -> str | None:
    if value is None:
        return None
    if value not in ("web", "native"):
        raise invalid_client_metadata("application_type must be \"web\" or \"native\"")
    return value


def _extras(body: Mapping[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for name in _DISPLAYED_URIS:
        value = body.get(name)
        if value is None:
            continue
        # An IdP shows these on its consent screen: https only, so a registration cannot point users
        # at a local or plain-http page (RFC 7591 §5 on phishing through client metadata).
        try:
            parts = parse_uri(value) if isinstance(value, str) and len(value) <= MAX_URI_LENGTH else None
        except UriError:
            parts = None
        if parts is None or parts.scheme != "https" or not parts.host or parts.has_userinfo or parts.has_fragment:
            raise invalid_client_metadata(f"{name} must be an https URL without user information or fragment")
        extras[name] = value
    contacts = body.get("contacts")
    if contacts is not None:
        contacts = _string_list(contacts, "contacts")
        if len(contacts) > 5 or not all(0 < len(c) <= MAX_TEXT_LENGTH and c.isprintable() for c in contacts):
            raise invalid_client_metadata(f"contacts must hold at most 5 printable strings of up to "
                                          f"{MAX_TEXT_LENGTH} characters")
        extras["contacts"] = contacts
    for name in _TEXTS[1:]:
        text = _text(body, name)
        if text is not None:
            extras[name] = text
    return extras
