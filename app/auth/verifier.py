"""Verifying a bearer token: cheap checks first, then keys, then claims, then scopes.

Every failure is an `AuthError` (401, 403 or 503); nothing a client sends can
raise anything else (see tests/integration/test_token_catalogue.py).
"""

from __future__ import annotations

import logging
import math
import ssl
import threading
from dataclasses import replace
from typing import Any

import jwt
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

from app.auth.cache import VerifiedTokenCache
from app.auth.discovery import USER_AGENT, DiscoveryError, ProviderMetadata
from app.auth.errors import AuthError, invalid_token, verification_failed
from app.auth.keys import KeysUnavailable, LastKnownGoodJWKClient
from app.identity import Principal, SubjectToken
from app.settings import Settings

log = logging.getLogger(__name__)

MAX_TOKEN_BYTES = 8192
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# Claims kept on the Principal (for identity mapping and audit); never the token itself.
_KEPT_CLAIMS = ("sub", "client_id", "azp", "email", "preferred_username", "groups", "name")


class TokenVerifier:
    """One per worker; fetches discovery and keys lazily on the first token."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer is not None
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.provider = ProviderMetadata(self.issuer, settings.oidc_http_timeout_seconds, settings.oidc_tls_verify)
        self.cache = VerifiedTokenCache(settings.token_cache_size)
        self._keys: LastKnownGoodJWKClient | None = None
        self._keys_lock = threading.Lock()
        self._algorithms = list(settings.oidc_algorithms)  # a list: a set breaks on list-valued `alg`
        self._audiences = list(settings.oidc_audiences)
        # Plus the claims the impersonation mapping reads (e.g. "email" or a custom groups claim).
        self._kept_claims = tuple(dict.fromkeys(
            [*_KEPT_CLAIMS, settings.impersonate_user_claim, settings.impersonate_groups_claim]))

    def keys(self) -> LastKnownGoodJWKClient:
        """The JWKS client, created on first use from OIDC_JWKS_URI or discovery.

        Raises:
            AuthError: 503 when the JWKS URI cannot be discovered.
        """
        if self._keys is None:
            with self._keys_lock:
                if self._keys is None:
                    uri = self.settings.oidc_jwks_uri
                    if uri is None:
                        try:
                            uri = self.provider.document()["jwks_uri"]
                        except DiscoveryError as exc:
                            raise AuthError(503, "temporarily_unavailable", str(exc), "discovery_failed") from None
                    self._keys = LastKnownGoodJWKClient(
                        uri,
                        stale_seconds=self.settings.jwks_stale_seconds,
                        lifespan=self.settings.jwks_cache_seconds,
                        cooldown_duration=self.settings.jwks_cooldown_seconds,
                        timeout=self.settings.oidc_http_timeout_seconds,
                        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                        # OIDC_CA_FILE: the same CAs as discovery trusts (None: the system's).
                        ssl_context=(ssl.create_default_context(cafile=self.settings.oidc_ca_file)
                                     if self.settings.oidc_ca_file else None),
                    )
        return self._keys

    def cached(self, authorization: str | None) -> Principal | None:
        """The caller behind a token this worker has already verified (and that has not expired), else None."""
        try:
            token = _bearer_token(authorization)
        except AuthError:
            return None
        return self.cache.get(self.cache.key(token))

    def verify(self, authorization: str | None) -> Principal:
        """The caller behind an `Authorization` header value.

        Raises:
            AuthError: 401 for a missing, malformed or invalid token; 403 when scopes are
                missing; 503 when the identity provider's keys cannot be had at all.
        """
        token = _bearer_token(authorization)
        key = self.cache.key(token)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        header = _header(token)
        context = {"kid": header.get("kid") if isinstance(header.get("kid"), str) else None,
                   "token_issuer": _unverified_issuer(token)}
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise verification_failed("algorithm_not_allowed", "signature algorithm not allowed", **context)
        if not isinstance(header.get("kid"), str):
            raise verification_failed("missing_kid", "token has no key id", **context)
        claims = self._decode(token, header["kid"], context)
        _check_claim_types(claims, context)
        principal = self._principal(claims, context)
        if self.settings.kube_auth == "exchange":
            # Exchanged at the IdP for a Kubernetes token on the first Kubernetes call (app/kube/exchange.py).
            principal = replace(principal, credential=SubjectToken(token))
        expires = float(claims["exp"])
        self.cache.put(key, principal, expires)
        return principal

    def _decode(self, token: str, kid: str, context: dict[str, Any]) -> dict[str, Any]:
        keys = self.keys()
        try:
            signing_key = keys.get_signing_key(kid)
        except KeysUnavailable as exc:
            raise AuthError(503, "temporarily_unavailable", str(exc), "jwks_unavailable", **context) from None
        except (PyJWKClientConnectionError, PyJWKSetError, ValueError):
            # The provider is down and the last-known-good keys are too old: not the client's fault,
            # so 503 (which does not count against the failed-authentication limit), not 401.
            raise AuthError(503, "temporarily_unavailable", f"Cannot fetch signing keys from {keys.uri}",
                            "jwks_unavailable", **context) from None
        except PyJWKClientError:
            raise verification_failed("unknown_kid", "unknown signing key", **context) from None
        try:
            # The PyJWK itself (not .key): PyJWT then insists the header alg matches the key type.
            return jwt.decode(
                token, signing_key, algorithms=self._algorithms, audience=self._audiences, issuer=self.issuer,
                leeway=self.settings.oidc_leeway_seconds, options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.InvalidIssuerError:
            raise invalid_token("Invalid issuer", "invalid_issuer", **context) from None
        except jwt.InvalidAudienceError:
            raise invalid_token("Invalid audience", "invalid_audience", **context) from None
        except jwt.ExpiredSignatureError:
            raise verification_failed("expired", "token has expired", **context) from None
        except jwt.ImmatureSignatureError:
            raise verification_failed("not_yet_valid", "token is not valid yet", **context) from None
        except jwt.MissingRequiredClaimError as exc:
            raise verification_failed("missing_claim", f"missing required claim {exc.claim!r}", **context) from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise verification_failed("invalid_token", None, **context) from None

    def _principal(self, claims: dict[str, Any], context: dict[str, Any]) -> Principal:
        scopes = _scopes(claims, context)
        missing = [scope for scope in self.settings.oidc_scopes if scope not in scopes]
        if missing:
            raise AuthError(403, "insufficient_scope", f"Insufficient scope: requires {' '.join(self.settings.oidc_scopes)}",
                            "insufficient_scope", **context)
        client_id = claims.get("client_id") or claims.get("azp")
        return Principal(
            subject=claims["sub"],
            client_id=client_id if isinstance(client_id, str) else None,
            scopes=frozenset(scopes),
            claims={k: claims[k] for k in self._kept_claims if k in claims},
        )


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise invalid_token("Missing Authorization header", "missing_header")
    parts = authorization.split(" ")
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1]:
        raise invalid_token("Invalid Authorization header format. Expected 'Bearer <token>'", "malformed_header")
    token = parts[1]
    if len(token) > MAX_TOKEN_BYTES:
        raise verification_failed("too_large", "token too large")
    if not token.isascii() or token.count(".") != 2:
        raise verification_failed("malformed", "not a signed JWT (header.payload.signature)")
    return token


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        raise verification_failed("malformed", "unreadable token header") from None
    if not isinstance(header, dict):
        raise verification_failed("malformed", "unreadable token header")
    return header


def _unverified_issuer(token: str) -> str | None:
    """The token's own `iss`, for the audit log only (never trusted)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        return None
    iss = claims.get("iss") if isinstance(claims, dict) else None
    return iss[:200] if isinstance(iss, str) else None


def _check_claim_types(claims: dict[str, Any], context: dict[str, Any]) -> None:
    """PyJWT int()s numeric dates, so "1795729000" or true would pass; insist on numbers."""
    for name in ("exp", "iat", "nbf"):
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            raise verification_failed("bad_claim", f"claim {name!r} must be a number", **context)
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise verification_failed("bad_claim", "claim 'sub' must be a non-empty string", **context)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float (10**400)
        return False


def _scopes(claims: dict[str, Any], context: dict[str, Any]) -> set[str]:
    """`scope` as a space-separated string (RFC 9068), or `scp` as an array (Okta) or string (Entra)."""
    found: set[str] = set()
    scope, scp = claims.get("scope"), claims.get("scp")
    if scope is not None:
        if not isinstance(scope, str):
            raise verification_failed("bad_claim", "claim 'scope' must be a space-separated string", **context)
        found.update(scope.split())
    if scp is not None:
        if isinstance(scp, str):
            found.update(scp.split())
        elif isinstance(scp, list) and all(isinstance(item, str) for item in scp):
            found.update(scp)
        else:
            raise verification_failed("bad_claim", "claim 'scp' must be a string or a list of strings", **context)
    return found
