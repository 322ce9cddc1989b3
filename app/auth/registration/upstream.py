"""The upstream backend: forward the validated registration to an RFC 7591 endpoint that needs
an initial access token (Keycloak, oidc-provider) or none at all (Auth0's open DCR).

The proxy adds the token the client does not have, and answers with the identity provider's
own response. That response may hold a `client_secret` (if the IdP chose to issue one) and a
`registration_access_token` with its `registration_client_uri` (RFC 7592): they belong to the
client that registered, which needs them to manage its registration, so they are passed through
but never logged or stored. The initial access token never leaves this module except in the
`Authorization` header of the request to the configured endpoint; redirects are not followed, so
it cannot be carried anywhere else. Upstream bodies are never relayed raw: an RFC 7591 error
keeps its code and a cleaned-up description, anything else becomes a 502/503/504 of our own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests

from app.auth.discovery import USER_AGENT
from app.auth.registration.errors import (
    INVALID_CLIENT_METADATA,
    RFC7591_ERRORS,
    SERVER_ERROR,
    TEMPORARILY_UNAVAILABLE,
    RegistrationError,
)
from app.auth.registration.request import ClientMetadata

log = logging.getLogger(__name__)
_MAX_DESCRIPTION = 300


class UpstreamRegistrar:
    name = "upstream"

    def __init__(self, url: str | None, initial_access_token: str | None, timeout: float,
                 verify: str | bool = True) -> None:
        self._url = url
        self._verify = verify
        self._token = initial_access_token
        self._timeout = timeout

    def endpoint(self, provider: Mapping[str, Any] | None) -> str:
        """DCR_UPSTREAM_REGISTRATION_URL, else the IdP's advertised registration_endpoint.

        Raises:
            RegistrationError: 502 when neither is known.
        """
        url = self._url or (provider or {}).get("registration_endpoint")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise RegistrationError(502, SERVER_ERROR, "The identity provider's discovery document names no "
                                    "registration_endpoint; the operator must set DCR_UPSTREAM_REGISTRATION_URL")
        return url

    def register(self, metadata: ClientMetadata, provider: Mapping[str, Any] | None) -> dict[str, Any]:
        url = self.endpoint(provider)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            response = requests.post(url, json=metadata.as_json(), headers=headers, timeout=self._timeout,
                                     allow_redirects=False, verify=self._verify)
        except requests.Timeout:
            raise RegistrationError(504, TEMPORARILY_UNAVAILABLE, f"The identity provider's registration "
                                    f"endpoint did not answer within {self._timeout:g}s") from None
        except requests.RequestException as exc:
            raise RegistrationError(503, TEMPORARILY_UNAVAILABLE, "Cannot reach the identity provider's "
                                    f"registration endpoint ({type(exc).__name__})", retry_after=30) from None
        return _interpret(response)


def _interpret(response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if status in (200, 201):
        if isinstance(body, dict) and isinstance(body.get("client_id"), str) and body["client_id"]:
            return body
        raise RegistrationError(502, SERVER_ERROR, f"The identity provider answered HTTP {status} without a "
                                "client_id")
    error = body.get("error") if isinstance(body, dict) else None
    description = _clean(body.get("error_description")) if isinstance(body, dict) else ""
    if status == 400 and error in RFC7591_ERRORS:
        raise RegistrationError(400, error, description or f"The identity provider refused: {error}")
    if status == 400:
        raise RegistrationError(400, INVALID_CLIENT_METADATA, "The identity provider refused the "
                                        f"registration: {description or _clean(error) or 'no reason given'}")
    if status in (401, 403):
        # Our credentials, not the client's request: Keycloak's initial access tokens expire and
        # run out of registrations. Loud in the log for the operator; clear but terse for the client.
        log.warning("the identity provider refused the registration proxy's initial access token "
                    "(HTTP %s %s); renew DCR_UPSTREAM_INITIAL_ACCESS_TOKEN", status, _clean(error))
        raise RegistrationError(502, SERVER_ERROR, f"The identity provider refused this proxy's "
                                        f"credentials (HTTP {status}): the operator must renew its initial "
                                        "access token")
    if status == 429:
        raise RegistrationError(503, TEMPORARILY_UNAVAILABLE, "The identity provider is rate-limiting "
                                        "registrations; retry later", retry_after=_retry_after(response))
    raise RegistrationError(502, SERVER_ERROR, f"The identity provider's registration endpoint "
                                    f"answered HTTP {status}")


def _clean(value: Any) -> str:
    """One printable line, bounded: an upstream description is relayed, never its raw body."""
    if not isinstance(value, str):
        return ""
    text = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return text[:_MAX_DESCRIPTION]


def _retry_after(response: requests.Response) -> int:
    value = response.headers.get("Retry-After", "")
    return min(int(value), 3600) if value.isdigit() and int(value) > 0 else 30
