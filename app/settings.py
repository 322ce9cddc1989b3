"""Typed settings, parsed once from the environment at start-up.

Every setting is an environment variable (documented in docs/configuration.md). A wrong
value raises `SettingsError` whose message is one line naming the variable and
what was expected, so the server refuses to start instead of running half
configured. No secret has a default.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from app.redirect_uris import UriError, parse_patterns

SERVICE_NAME = "cnpg-mcp-server"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LOG_FORMATS = ("json", "text")
_ORIGIN_RE = re.compile(r"^https?://[^/\s]+$")
_N = TypeVar("_N", int, float)
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DCR_BACKENDS = ("static", "upstream")
KUBE_AUTH_MODES = ("serviceaccount", "impersonate", "exchange")
CONFIRM_MODES = ("argument", "person", "person-only")
# Tool groups MCP_TOOLSETS may name, in catalogue order (app/tools/catalog.py maps each to its tools).
TOOLSETS = ("clusters", "observability", "operations", "roles", "databases", "backups", "poolers")
# Desktop clients on this machine only, on whatever port they listen (RFC 8252 §7.3).
DEFAULT_REDIRECT_URI_PATTERNS = ("http://127.0.0.1:*/*", "http://[::1]:*/*", "http://localhost:*/*")


class SettingsError(ValueError):
    """A setting has a value the server cannot run with."""

    def __init__(self, variable: str, expected: str, got: str | None = None) -> None:
        shown = "" if got is None else f", got {got!r}"
        super().__init__(f"{variable}: expected {expected}{shown}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know, validated."""

    # --- MCP transport -------------------------------------------------
    allowed_origins: tuple[str, ...] = ()
    """Extra browser origins allowed to call /mcp; loopback origins always are."""
    allowed_hosts: tuple[str, ...] = ()
    """Extra Host header values accepted (DNS-rebinding guard); loopback always is."""
    max_body_bytes: int = 1_048_576
    public_url: str | None = None
    """Public URL of /mcp when served behind a proxy (used in metadata)."""
    read_only: bool = False
    """Expose only tools annotated read-only."""
    namespaces: tuple[str, ...] = ()
    """Namespaces the tools may touch; empty means all the server's RBAC allows."""
    max_instances: int = 10
    """Upper bound for a cluster's instances (create and scale)."""

    # --- Authentication ------------------------------------------------
    oidc_issuer: str | None = None
    """Issuer URL exactly as it appears in tokens' `iss`; setting it turns authentication on."""
    oidc_audiences: tuple[str, ...] = ()
    oidc_jwks_uri: str | None = None
    oidc_scopes: tuple[str, ...] = ("openid",)
    dcr_proxy_url: str | None = None
    oidc_algorithms: tuple[str, ...] = ("RS256", "ES256")
    oidc_leeway_seconds: int = 60
    oidc_http_timeout_seconds: float = 5.0
    oidc_ca_file: str | None = None
    """PEM file of the CAs trusted for HTTPS to the identity provider (discovery, JWKS, registration,
    token exchange) instead of the system's; None: the system CAs."""
    """Timeout of each discovery / JWKS request to the identity provider."""
    jwks_cache_seconds: int = 300
    jwks_cooldown_seconds: int = 30
    jwks_stale_seconds: int = 3600
    """How long the last-known-good keys keep verifying tokens while the JWKS endpoint is down."""
    token_cache_size: int = 10_000
    """Verified tokens remembered per worker (0 turns the cache off)."""
    ratelimit_storage_uri: str = "memory://"
    auth_failure_limit: str = "10/minute"
    tool_call_limit: str | None = None
    trusted_proxy_hops: int = 0

    # --- Dynamic Client Registration proxy (docs/oidc.md) ---------------
    dcr_backend: str | None = None
    """None: no proxy; "static": hand out DCR_STATIC_CLIENT_ID; "upstream": forward to the IdP."""
    dcr_redirect_uri_patterns: tuple[str, ...] = DEFAULT_REDIRECT_URI_PATTERNS
    """Redirect URIs any registration may use (patterns, see app/redirect_uris.py)."""
    dcr_static_client_id: str | None = None
    dcr_static_redirect_uris: tuple[str, ...] = ()
    """The redirect URIs (patterns) the pre-registered client allows at the IdP."""
    dcr_upstream_registration_url: str | None = None
    """Default: the `registration_endpoint` of the IdP's discovery document."""
    dcr_upstream_initial_access_token: str | None = field(default=None, repr=False)
    """A secret: never logged, never returned, kept out of repr()."""
    dcr_upstream_anonymous: bool = False
    """The upstream endpoint takes registrations without a token (Auth0's open DCR)."""
    dcr_rate_limit: str = "10/hour"
    """Registration requests per client address."""

    # --- Per-caller authorization ---------------------------------------
    scope_read: str | None = None
    """Scope that unlocks read-only tools (unset with the others: OIDC_SCOPE alone decides)."""
    scope_write: str | None = None
    """Scope that unlocks mutating, non-destructive tools (and implies read)."""
    scope_admin: str | None = None
    """Scope that unlocks destructive tools (and implies write and read)."""
    kube_auth: str = "serviceaccount"
    """Whose identity Kubernetes calls carry: the server's own, the impersonated caller's, or the
    caller's token exchanged at the identity provider (RFC 8693)."""
    exchange_audience: str | None = None
    """The audience requested for exchanged tokens: the one the API server's JWT authenticator expects."""
    exchange_client_id: str | None = None
    exchange_client_secret: str | None = field(default=None, repr=False)
    """A secret: never logged, never returned, kept out of repr()."""
    exchange_token_url: str | None = None
    """Default: the `token_endpoint` of the IdP's discovery document."""
    exchange_cache_size: int = 10_000
    """Exchanged tokens kept per worker (one per caller token), until shortly before they expire."""
    impersonate_user_claim: str = "sub"
    impersonate_user_prefix: str = "oidc:"
    impersonate_groups_claim: str = "groups"
    impersonate_groups_prefix: str = "oidc:"
    insecure_allow_remote: bool = False
    """Allow a non-loopback bind while authentication is off (explicit opt-in)."""

    # --- Kubernetes ----------------------------------------------------
    kubeconfig: str | None = None
    kube_context: str | None = None
    kube_contexts: tuple[str, ...] = ()
    """Kubeconfig contexts a tool's `context` argument may name (KUBE_CONTEXTS; "*" = all); empty:
    one cluster, no `context` argument."""
    read_only_contexts: tuple[str, ...] = ()
    """Contexts served read-only while others are writable (MCP_READ_ONLY_CONTEXTS)."""
    context_namespaces: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Per-context namespace allow-lists (MCP_CONTEXT_NAMESPACES), overriding MCP_NAMESPACES there."""
    toolsets: tuple[str, ...] = TOOLSETS
    confirm_mode: str = "argument"
    """Who confirms destructive calls: the model (`confirm` argument), a person through the client
    (input-required elicitation, 2026-07-28) where the client can, or a person only."""
    request_state_key: str | None = field(default=None, repr=False)
    """HMAC key signing the request state of input-required results; the same in every worker and replica."""
    confirm_ttl_seconds: int = 300
    """How long a person has to answer a confirmation."""
    """Tool groups to serve (MCP_TOOLSETS; default all): fewer tools, a smaller catalogue in every
    model context."""
    kube_timeout_seconds: float = 10.0

    # --- Logging -------------------------------------------------------
    log_level: str = "INFO"
    log_format: str = "json"
    access_log: bool = True
    """One JSON line per HTTP request (logger cnpg_mcp.access), whatever LOG_LEVEL says."""

    # --- Metrics -------------------------------------------------------
    metrics_enabled: bool = True
    """Serve Prometheus metrics at /metrics on the main port."""
    metrics_allow_from: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    """Client networks (CIDRs) allowed to read /metrics; others get 403."""

    # --- gunicorn (read by gunicorn.conf.py) ---------------------------
    gunicorn_bind: str = "127.0.0.1:3000"
    gunicorn_workers: int = 2
    gunicorn_threads: int = 8
    gunicorn_timeout: int = 30
    gunicorn_graceful_timeout: int = 20
    gunicorn_keepalive: int = 5

    @property
    def auth_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @property
    def scoped_tools(self) -> bool:
        """Whether tools are gated by per-class scopes (MCP_SCOPE_READ/WRITE/ADMIN)."""
        return self.scope_read is not None

    @property
    def supported_scopes(self) -> list[str]:
        """Every scope this server understands: the baseline OIDC_SCOPE, then the per-class ones."""
        return list(dict.fromkeys([*self.oidc_scopes, *(s for s in (self.scope_read, self.scope_write,
                                                                       self.scope_admin) if s)]))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse settings from `environ` (default: `os.environ`).

        Raises:
            SettingsError: the first variable whose value is unusable.
        """
        env = os.environ if environ is None else environ
        settings = cls(
            allowed_origins=_origins(env, "MCP_ALLOWED_ORIGINS"),
            allowed_hosts=_csv(env, "MCP_ALLOWED_HOSTS"),
            max_body_bytes=_int(env, "MCP_MAX_BODY_BYTES", 1_048_576, minimum=1024, maximum=64 * 1_048_576),
            public_url=_url(env, "MCP_PUBLIC_URL"),
            read_only=_bool(env, "MCP_READ_ONLY", False),
            namespaces=_namespaces(env, "MCP_NAMESPACES"),
            max_instances=_int(env, "MCP_MAX_INSTANCES", 10, minimum=1, maximum=100),
            oidc_issuer=_url(env, "OIDC_ISSUER", keep_trailing_slash=True),
            oidc_audiences=_csv(env, "OIDC_AUDIENCE"),
            oidc_jwks_uri=_url(env, "OIDC_JWKS_URI", keep_trailing_slash=True),
            oidc_scopes=_scopes(env, "OIDC_SCOPE"),
            dcr_proxy_url=_url(env, "DCR_PROXY_URL", keep_trailing_slash=True),
            dcr_backend=_optional_choice(env, "DCR_PROXY_BACKEND", DCR_BACKENDS),
            dcr_redirect_uri_patterns=_redirect_patterns(env, "DCR_REDIRECT_URI_PATTERNS",
                                                         DEFAULT_REDIRECT_URI_PATTERNS),
            dcr_static_client_id=_client_id(env, "DCR_STATIC_CLIENT_ID"),
            dcr_static_redirect_uris=_redirect_patterns(env, "DCR_STATIC_REDIRECT_URIS", ()),
            dcr_upstream_registration_url=_url(env, "DCR_UPSTREAM_REGISTRATION_URL", keep_trailing_slash=True),
            dcr_upstream_initial_access_token=_secret(env, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN"),
            dcr_upstream_anonymous=_bool(env, "DCR_UPSTREAM_ANONYMOUS", False),
            dcr_rate_limit=_rate(env, "DCR_RATE_LIMIT", "10/hour") or "10/hour",
            oidc_algorithms=_algorithms(env, "OIDC_ALGORITHMS"),
            oidc_leeway_seconds=_int(env, "OIDC_LEEWAY_SECONDS", 60, minimum=0, maximum=300),
            oidc_http_timeout_seconds=_float(env, "OIDC_HTTP_TIMEOUT_SECONDS", 5.0, minimum=0.5, maximum=30.0),
            oidc_ca_file=_ca_file(env, "OIDC_CA_FILE"),
            jwks_cache_seconds=_int(env, "OIDC_JWKS_CACHE_SECONDS", 300, minimum=1, maximum=86400),
            jwks_cooldown_seconds=_int(env, "OIDC_JWKS_COOLDOWN_SECONDS", 30, minimum=0, maximum=3600),
            jwks_stale_seconds=_int(env, "OIDC_JWKS_STALE_SECONDS", 3600, minimum=0, maximum=7 * 86400),
            token_cache_size=_int(env, "OIDC_TOKEN_CACHE_SIZE", 10_000, minimum=0, maximum=1_000_000),
            ratelimit_storage_uri=_storage_uri(env, "RATELIMIT_STORAGE_URI"),
            auth_failure_limit=_rate(env, "AUTH_FAILURE_LIMIT", "10/minute"),
            tool_call_limit=_rate(env, "TOOL_CALL_LIMIT", None),
            trusted_proxy_hops=_int(env, "TRUSTED_PROXY_HOPS", 0, minimum=0, maximum=5),
            scope_read=_single_scope(env, "MCP_SCOPE_READ"),
            scope_write=_single_scope(env, "MCP_SCOPE_WRITE"),
            scope_admin=_single_scope(env, "MCP_SCOPE_ADMIN"),
            kube_auth=_kube_auth(env),
            exchange_audience=_str(env, "KUBE_EXCHANGE_AUDIENCE"),
            exchange_client_id=_client_id(env, "KUBE_EXCHANGE_CLIENT_ID"),
            exchange_client_secret=_secret(env, "KUBE_EXCHANGE_CLIENT_SECRET"),
            exchange_token_url=_url(env, "KUBE_EXCHANGE_TOKEN_URL", keep_trailing_slash=True),
            exchange_cache_size=_int(env, "KUBE_EXCHANGE_CACHE_SIZE", 10_000, minimum=1, maximum=1_000_000),
            impersonate_user_claim=_claim(env, "KUBE_IMPERSONATE_USER_CLAIM", "sub"),
            impersonate_user_prefix=env.get("KUBE_IMPERSONATE_USER_PREFIX", "oidc:"),
            impersonate_groups_claim=_claim(env, "KUBE_IMPERSONATE_GROUPS_CLAIM", "groups"),
            impersonate_groups_prefix=env.get("KUBE_IMPERSONATE_GROUPS_PREFIX", "oidc:"),
            insecure_allow_remote=_bool(env, "MCP_INSECURE_ALLOW_REMOTE", False),
            kubeconfig=_str(env, "KUBECONFIG"),
            kube_context=_str(env, "KUBE_CONTEXT"),
            kube_contexts=_contexts(env, "KUBE_CONTEXTS"),
            read_only_contexts=_contexts(env, "MCP_READ_ONLY_CONTEXTS", wildcard=False),
            context_namespaces=_context_namespaces(env, "MCP_CONTEXT_NAMESPACES"),
            toolsets=_toolsets(env, "MCP_TOOLSETS"),
            confirm_mode=_choice(env, "MCP_CONFIRM", "argument", CONFIRM_MODES),
            request_state_key=_secret(env, "MCP_REQUEST_STATE_KEY"),
            confirm_ttl_seconds=_int(env, "MCP_CONFIRM_TTL_SECONDS", 300, minimum=1, maximum=3600),
            kube_timeout_seconds=_float(env, "KUBE_TIMEOUT_SECONDS", 10.0, minimum=0.5, maximum=120.0),
            log_level=_choice(env, "LOG_LEVEL", "INFO", _LOG_LEVELS, upper=True),
            log_format=_choice(env, "LOG_FORMAT", "json", _LOG_FORMATS),
            access_log=_bool(env, "ACCESS_LOG", True),
            metrics_enabled=_bool(env, "METRICS_ENABLED", True),
            metrics_allow_from=_networks(env, "METRICS_ALLOW_FROM", ("127.0.0.0/8", "::1/128")),
            gunicorn_bind=_bind(env, "GUNICORN_BIND", "127.0.0.1:3000"),
            gunicorn_workers=_int(env, "GUNICORN_WORKERS", 2, minimum=1, maximum=64),
            gunicorn_threads=_int(env, "GUNICORN_THREADS", 8, minimum=1, maximum=256),
            gunicorn_timeout=_int(env, "GUNICORN_TIMEOUT", 30, minimum=5, maximum=3600),
            gunicorn_graceful_timeout=_int(env, "GUNICORN_GRACEFUL_TIMEOUT", 20, minimum=1, maximum=3600),
            gunicorn_keepalive=_int(env, "GUNICORN_KEEPALIVE", 5, minimum=0, maximum=300),
        )
        settings.check_consistency()
        return settings

    def check_consistency(self) -> None:
        """Cross-setting rules; fail closed.

        Raises:
            SettingsError: two settings contradict each other or would be unsafe together.
        """
        if self.oidc_issuer is not None and not self.oidc_audiences:
            raise SettingsError("OIDC_AUDIENCE", "the audience(s) tokens must be issued for, when OIDC_ISSUER is set")
        if self.oidc_issuer is None:
            for name, value in (("OIDC_AUDIENCE", self.oidc_audiences), ("OIDC_JWKS_URI", self.oidc_jwks_uri),
                                ("DCR_PROXY_URL", self.dcr_proxy_url), ("DCR_PROXY_BACKEND", self.dcr_backend),
                                ("OIDC_CA_FILE", self.oidc_ca_file)):
                if value:
                    # Fail closed: a half-configured OIDC must not silently run without authentication.
                    raise SettingsError("OIDC_ISSUER", f"to be set because {name} is set", None)
        self._check_dcr()
        scoped = [v for v in (self.scope_read, self.scope_write, self.scope_admin) if v]
        if scoped and not all((self.scope_read, self.scope_write, self.scope_admin)):
            raise SettingsError("MCP_SCOPE_READ", "MCP_SCOPE_READ, MCP_SCOPE_WRITE and MCP_SCOPE_ADMIN all set, or none")
        if scoped and not self.auth_enabled:
            raise SettingsError("OIDC_ISSUER", "to be set: per-class scopes (MCP_SCOPE_*) need authenticated callers")
        if self.kube_impersonate and not self.auth_enabled:
            # Impersonating "anonymous" would run every call as one shared identity: refuse.
            raise SettingsError("OIDC_ISSUER", "to be set: KUBE_IMPERSONATE maps each token's claims to a Kubernetes user")
        self._check_exchange()
        if self.confirm_mode != "argument" and not self.request_state_key:
            raise SettingsError("MCP_REQUEST_STATE_KEY", f"a signing key (or MCP_REQUEST_STATE_KEY_FILE) of at least "
                                f"32 characters with MCP_CONFIRM={self.confirm_mode}, the same in every worker and replica")
        if self.request_state_key and len(self.request_state_key) < 32:
            raise SettingsError("MCP_REQUEST_STATE_KEY", "at least 32 characters (value not shown)")
        if not self.kube_contexts:
            for name, value in (("MCP_READ_ONLY_CONTEXTS", self.read_only_contexts),
                                ("MCP_CONTEXT_NAMESPACES", self.context_namespaces)):
                if value:
                    raise SettingsError("KUBE_CONTEXTS", f"the contexts the server may reach, because {name} is set")
        if self.kube_timeout_seconds >= self.gunicorn_timeout:
            raise SettingsError(
                "KUBE_TIMEOUT_SECONDS",
                f"less than GUNICORN_TIMEOUT ({self.gunicorn_timeout}s) so a slow API call "
                "ends as a tool error before the worker is killed",
                str(self.kube_timeout_seconds),
            )
        if not self.auth_enabled and not self.insecure_allow_remote and not bind_is_loopback(self.gunicorn_bind):
            raise SettingsError(
                "GUNICORN_BIND",
                "a loopback address (127.0.0.1, ::1, localhost or a unix socket) while authentication "
                "is off; set OIDC_ISSUER, or MCP_INSECURE_ALLOW_REMOTE=true to accept the risk",
                self.gunicorn_bind,
            )


    @property
    def oidc_tls_verify(self) -> str | bool:
        """`requests`' `verify=` for HTTPS to the identity provider: OIDC_CA_FILE, else the system CAs."""
        return self.oidc_ca_file or True

    @property
    def kube_impersonate(self) -> bool:
        """KUBE_AUTH=impersonate (or the older KUBE_IMPERSONATE=true)."""
        return self.kube_auth == "impersonate"

    def _check_exchange(self) -> None:
        """KUBE_AUTH=exchange needs the audience and the server's own client; the other modes none of it."""
        names = {"KUBE_EXCHANGE_AUDIENCE": self.exchange_audience, "KUBE_EXCHANGE_CLIENT_ID": self.exchange_client_id,
                 "KUBE_EXCHANGE_CLIENT_SECRET": self.exchange_client_secret,
                 "KUBE_EXCHANGE_TOKEN_URL": self.exchange_token_url}
        if self.kube_auth != "exchange":
            for name, value in names.items():
                if value:
                    raise SettingsError("KUBE_AUTH", f"exchange because {name} is set", self.kube_auth)
            return
        if not self.auth_enabled:
            raise SettingsError("OIDC_ISSUER", "to be set: KUBE_AUTH=exchange exchanges each caller's token")
        for name in ("KUBE_EXCHANGE_AUDIENCE", "KUBE_EXCHANGE_CLIENT_ID", "KUBE_EXCHANGE_CLIENT_SECRET"):
            if not names[name]:
                hint = " (or KUBE_EXCHANGE_CLIENT_SECRET_FILE)" if name.endswith("SECRET") else ""
                raise SettingsError(name, f"to be set with KUBE_AUTH=exchange{hint} (see docs/oidc.md)")

    def _check_dcr(self) -> None:
        """Each backend's settings present, and none of the other backend's (a typo must not go unnoticed)."""
        static = {"DCR_STATIC_CLIENT_ID": self.dcr_static_client_id,
                  "DCR_STATIC_REDIRECT_URIS": self.dcr_static_redirect_uris}
        upstream = {"DCR_UPSTREAM_REGISTRATION_URL": self.dcr_upstream_registration_url,
                    "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": self.dcr_upstream_initial_access_token,
                    "DCR_UPSTREAM_ANONYMOUS": self.dcr_upstream_anonymous}
        for backend, names in (("static", static), ("upstream", upstream)):
            if self.dcr_backend != backend:
                for name, value in names.items():
                    if value:
                        raise SettingsError("DCR_PROXY_BACKEND", f"{backend} because {name} is set",
                                            self.dcr_backend or "")
        if self.dcr_backend == "static":
            for name, value in static.items():
                if not value:
                    raise SettingsError(name, "to be set with DCR_PROXY_BACKEND=static (see docs/oidc.md)")
        if self.dcr_backend == "upstream":
            token, anonymous = self.dcr_upstream_initial_access_token, self.dcr_upstream_anonymous
            if not token and not anonymous:
                raise SettingsError("DCR_UPSTREAM_INITIAL_ACCESS_TOKEN",
                                    "the IdP's initial access token (or DCR_UPSTREAM_INITIAL_ACCESS_TOKEN_FILE) with "
                                    "DCR_PROXY_BACKEND=upstream, or DCR_UPSTREAM_ANONYMOUS=true for an open endpoint")
            if token and anonymous:
                raise SettingsError("DCR_UPSTREAM_ANONYMOUS", "false when an initial access token is set", "true")


def bind_is_loopback(bind: str) -> bool:
    """True when a gunicorn bind address only listens on this machine."""
    if bind.startswith("unix:"):
        return True
    host = bind.rsplit(":", 1)[0] if not bind.startswith("[") else bind[1 : bind.index("]")]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- parsers: each names its variable in the error ---------------------


def _str(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _csv(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(name, "true or false", raw)


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    return _number(env, name, default, int, f"an integer from {minimum} to {maximum}", minimum, maximum)


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float, maximum: float) -> float:
    return _number(env, name, default, float, f"a number of seconds from {minimum} to {maximum}", minimum, maximum)


def _number(env: Mapping[str, str], name: str, default: _N, parse: Callable[[str], _N], expected: str,
            minimum: _N, maximum: _N) -> _N:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise SettingsError(name, expected, raw) from None
    if not minimum <= value <= maximum:
        raise SettingsError(name, expected, raw)
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = raw.upper() if upper else raw.lower()
    if value not in choices:
        raise SettingsError(name, "one of " + ", ".join(choices), raw)
    return value


def _url(env: Mapping[str, str], name: str, *, keep_trailing_slash: bool = False) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise SettingsError(name, "an absolute http(s) URL without a fragment", raw) from None
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise SettingsError(name, "an absolute http(s) URL without a fragment", raw)
    # Issuers are compared byte for byte with `iss`, so their trailing slash is significant.
    return raw if keep_trailing_slash else raw.rstrip("/")


def _optional_choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    return _choice(env, name, "", choices)


def _redirect_patterns(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    patterns = _csv(env, name)
    if not patterns:
        return default
    try:
        parse_patterns(patterns)
    except UriError as exc:
        raise SettingsError(name, f"comma-separated redirect URI patterns (docs/oidc.md); {exc}") from None
    return patterns


def _client_id(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if raw and not re.fullmatch(r"[\x21-\x7e]{1,255}", raw):
        raise SettingsError(name, "a client id of printable ASCII characters without spaces", raw)
    return raw or None


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """`NAME`, or the contents of the file `NAME_FILE` names (a mounted Secret). Never echoed in errors."""
    value, file_name = env.get(name, "").strip(), env.get(f"{name}_FILE", "").strip()
    if value and file_name:
        raise SettingsError(name, f"either {name} or {name}_FILE, not both")
    if file_name:
        try:
            value = Path(file_name).read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{name}_FILE", "a readable file holding the secret",
                                f"{file_name} ({type(exc).__name__})") from None
        if not value:
            raise SettingsError(f"{name}_FILE", "a file holding the secret, not an empty one", file_name)
    if value and not re.fullmatch(r"[\x21-\x7e]+", value):
        # It goes into an Authorization header; the value itself is never shown.
        raise SettingsError(name, "a token of printable ASCII characters without spaces (value not shown)")
    return value or None


def _kube_auth(env: Mapping[str, str]) -> str:
    """KUBE_AUTH, with KUBE_IMPERSONATE=true kept as the older spelling of KUBE_AUTH=impersonate."""
    chosen = _choice(env, "KUBE_AUTH", "serviceaccount", KUBE_AUTH_MODES)
    if _bool(env, "KUBE_IMPERSONATE", False):
        if env.get("KUBE_AUTH", "").strip() and chosen != "impersonate":
            raise SettingsError("KUBE_IMPERSONATE", f"unset when KUBE_AUTH={chosen} (they contradict each other)", "true")
        return "impersonate"
    return chosen


def _ca_file(env: Mapping[str, str], name: str) -> str | None:
    """A readable PEM file holding at least one certificate (checked now: a typo fails the start)."""
    path = _str(env, name)
    if path is None:
        return None
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(name, "a readable PEM file of CA certificates", f"{path} ({type(exc).__name__})") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise SettingsError(name, "a PEM file with at least one CERTIFICATE block", path)
    return path


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = _csv(env, name)
    for origin in origins:
        if origin != "*" and not _ORIGIN_RE.match(origin):
            raise SettingsError(name, "comma-separated origins like https://app.example.com (scheme://host[:port])", origin)
    if "*" in origins:
        # A wildcard would re-open the DNS-rebinding hole the Origin check exists to close.
        raise SettingsError(name, "explicit origins; '*' is not allowed", "*")
    return tuple(origin.lower() for origin in origins)


def _namespaces(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    names = _csv(env, name)
    for namespace in names:
        if not _DNS1123_LABEL.fullmatch(namespace):
            raise SettingsError(name, "comma-separated namespace names (DNS-1123 labels)", namespace)
    return names


# Kubeconfig context names are free-form; these characters would be ambiguous in our own settings.
_CONTEXT_NAME = re.compile(r"^[^\s,;=]{1,253}$")


def _toolsets(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    chosen = _csv(env, name)
    if not chosen:
        return TOOLSETS
    unknown = [group for group in chosen if group not in TOOLSETS]
    if unknown:
        raise SettingsError(name, f"comma-separated tool groups of: {', '.join(TOOLSETS)}", ",".join(unknown))
    # Catalogue order, whatever order they were given in: tools/list stays stable.
    return tuple(group for group in TOOLSETS if group in chosen)


def _contexts(env: Mapping[str, str], name: str, *, wildcard: bool = True) -> tuple[str, ...]:
    names = _csv(env, name)
    if wildcard and "*" in names:
        if names != ("*",):
            raise SettingsError(name, "either '*' (every context of the kubeconfig) or context names, not both")
        return names
    for context in names:
        if context == "*" or not _CONTEXT_NAME.fullmatch(context):
            raise SettingsError(name, "comma-separated kubeconfig context names", context)
    return tuple(dict.fromkeys(names))


def _context_namespaces(env: Mapping[str, str], name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`prod=db,app;staging=db` → (("prod", ("db", "app")), ("staging", ("db",)))."""
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    expected = "context=namespace[,namespace...] entries separated by ';' (e.g. prod=db,app;staging=db)"
    parsed: dict[str, tuple[str, ...]] = {}
    for entry in (part.strip() for part in raw.split(";")):
        context, _, namespaces = entry.partition("=")
        context = context.strip()
        if not entry or not _ or not _CONTEXT_NAME.fullmatch(context) or context in parsed:
            raise SettingsError(name, expected, entry)
        names = _namespaces({name: namespaces}, name)
        if not names:
            raise SettingsError(name, expected, entry)
        parsed[context] = names
    return tuple(parsed.items())


_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 scope-token characters
_ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA")
_RATE = re.compile(r"^\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?$", re.IGNORECASE)


def _scopes(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return ("openid",)
    # Set but empty: no scope is required (e.g. Entra client-credentials tokens carry `roles`, no `scp`).
    scopes = tuple(dict.fromkeys(raw.split()))
    for scope in scopes:
        if not _SCOPE_TOKEN.fullmatch(scope):
            raise SettingsError(name, "space-separated OAuth scopes", scope)
    return scopes


def _single_scope(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not _SCOPE_TOKEN.fullmatch(raw):
        raise SettingsError(name, "one OAuth scope (e.g. cnpg:read)", raw)
    return raw


def _claim(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not re.fullmatch(r"[A-Za-z0-9_:.\-/]{1,100}", raw):
        raise SettingsError(name, "a JWT claim name", raw)
    return raw


def _algorithms(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    names = _csv(env, name) or ("RS256", "ES256")
    for algorithm in names:
        if algorithm not in _ALLOWED_ALGORITHMS:
            # No HS* (a shared secret is not a public key) and never "none".
            raise SettingsError(name, "asymmetric JWS algorithms from " + ", ".join(_ALLOWED_ALGORITHMS), algorithm)
    return names


def _rate(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not _RATE.fullmatch(raw):
        raise SettingsError(name, "a rate like 10/minute or 100 per hour", raw)
    return raw


def _storage_uri(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name, "").strip() or "memory://"
    schemes = ("memory://", "redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")
    if not raw.startswith(schemes):
        raise SettingsError(name, "memory:// or a redis:// URI", raw.split("@")[-1])
    return raw


def _networks(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    networks = _csv(env, name)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError(name, "comma-separated CIDRs like 127.0.0.0/8,10.0.0.0/8", network) from None
    return tuple(str(ipaddress.ip_network(n, strict=False)) for n in networks)


def _bind(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.startswith("unix:"):
        return raw
    host, sep, port = raw.rpartition(":")
    bracketed = host.startswith("[") or host.endswith("]")
    if bracketed and not (host.startswith("[") and host.endswith("]") and len(host) > 2):
        raise SettingsError(name, "HOST:PORT (e.g. 127.0.0.1:3000 or [::1]:3000) or unix:PATH", raw)
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(name, "HOST:PORT (e.g. 127.0.0.1:3000) or unix:PATH", raw)
    return raw
