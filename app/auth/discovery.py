"""The identity provider's OpenID discovery document, fetched lazily and cached per worker."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

USER_AGENT = "cnpg-mcp-server (+https://github.com/cloudnative-pg)"
_REFRESH_SECONDS = 3600
_RETRY_AFTER_FAILURE_SECONDS = 30


class DiscoveryError(Exception):
    """Discovery failed; the message is the guide's "Failed to discover JWKS URI" family."""


class ProviderMetadata:
    """`{issuer}/.well-known/openid-configuration`, checked for issuer equality.

    Fetched on first use (never at import or start-up, so an IdP outage does not
    stop the server from starting), refreshed hourly, and kept when a refresh fails.
    """

    def __init__(self, issuer: str, timeout: float, verify: str | bool = True) -> None:
        self.issuer = issuer
        self._verify = verify
        self.url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._timeout = timeout
        self._lock = threading.Lock()
        self._document: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._failed_at = 0.0
        self._last_error = ""

    def document(self) -> dict[str, Any]:
        """The discovery document.

        Raises:
            DiscoveryError: never fetched successfully and the provider cannot be reached now.
        """
        now = time.monotonic()
        with self._lock:
            stale = self._document is None or now - self._fetched_at > _REFRESH_SECONDS
            may_try = now - self._failed_at > _RETRY_AFTER_FAILURE_SECONDS or self._document is None
            if stale and may_try:
                try:
                    self._document = self._fetch()
                    self._fetched_at = now
                except DiscoveryError as exc:
                    self._failed_at, self._last_error = now, str(exc)
                    if self._document is None:
                        raise
            if self._document is None:
                raise DiscoveryError(self._last_error)
            return self._document

    def token_endpoint(self) -> str:
        """The provider's `token_endpoint` (KUBE_AUTH=exchange posts there).

        Raises:
            DiscoveryError: discovery failed, or the document names no token endpoint.
        """
        url = self.document().get("token_endpoint")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise DiscoveryError(f"{self.url} names no token_endpoint; set KUBE_EXCHANGE_TOKEN_URL")
        return url

    def _fetch(self) -> dict[str, Any]:
        try:
            response = requests.get(
                self.url, timeout=self._timeout, allow_redirects=False, verify=self._verify,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            )
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise DiscoveryError(f"Failed to discover JWKS URI from {self.url}: {type(exc).__name__}") from None
        if not isinstance(document, dict) or document.get("issuer") != self.issuer:
            got = document.get("issuer") if isinstance(document, dict) else None
            raise DiscoveryError(
                f"Failed to discover JWKS URI: {self.url} names issuer {got!r}, not OIDC_ISSUER {self.issuer!r}"
            )
        if not isinstance(document.get("jwks_uri"), str):
            raise DiscoveryError(f"Failed to discover JWKS URI: {self.url} has no jwks_uri")
        return document
