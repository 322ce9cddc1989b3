"""Why a request was not authenticated, in the words the OIDC guide documents."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class AuthError(Exception):
    """401/403/503 with an RFC 6750 error code and a description safe to show the client.

    `reason` is a short machine word for the audit log and metrics; `kid` and
    `token_issuer` are read from the (unverified) token only to help operators.
    """

    status: int
    error: str
    description: str
    reason: str
    kid: str | None = None
    token_issuer: str | None = None

    def __str__(self) -> str:
        return self.description


def invalid_token(description: str, reason: str, **context: str | None) -> AuthError:
    return AuthError(401, "invalid_token", description, reason, **context)


def verification_failed(reason: str, detail: str | None = None, **context: str | None) -> AuthError:
    text = "Token verification failed" + (f": {detail}" if detail else "")
    return AuthError(401, "invalid_token", text, reason, **context)
