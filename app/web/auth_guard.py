"""Authentication of /mcp: a before_request hook turning AuthError into RFC 6750 challenges."""

from __future__ import annotations

import logging

from flask import Response, g, request
from mcp.server.auth.routes import build_resource_metadata_url

from app import metrics
from app.auth import AuthError
from app.identity import ANONYMOUS
from app.web.replies import json_response
from app.web.state import app_state

audit = logging.getLogger("cnpg_mcp.audit")


def public_mcp_url() -> str:
    """The canonical URL of /mcp: MCP_PUBLIC_URL, else derived from this request (ProxyFix-aware)."""
    settings = app_state().settings
    return settings.public_url or request.url_root.rstrip("/") + "/mcp"


def resource_metadata_url() -> str:
    return str(build_resource_metadata_url(public_mcp_url()))


def _quoted(value: str) -> str:
    # RFC 6750 auth-param values are quoted strings; keep them printable and unambiguous.
    return '"' + "".join(c for c in value if c.isprintable() and c not in '"\\') + '"'


def challenge(error: AuthError) -> Response:
    settings = app_state().settings
    body = {"error": error.error, "error_description": error.description}
    headers: dict[str, str] = {}
    if error.status in (401, 403):
        params = [
            f"error={_quoted(error.error)}",
            f"error_description={_quoted(error.description)}",
            f"resource_metadata={_quoted(resource_metadata_url())}",
            f"scope={_quoted(' '.join(settings.oidc_scopes))}",
        ]
        headers["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    else:
        headers["Retry-After"] = "30"
    return json_response(body, error.status, headers)


def step_up(body: dict, scopes: tuple[str, ...]) -> Response:
    """403 for a tool the token's scopes do not unlock: the challenge names every scope needed,
    so the client can ask the user for a token with more scopes (MCP scope step-up)."""
    description = f"Insufficient scope: requires {' '.join(scopes)}"
    params = [
        f"error={_quoted('insufficient_scope')}",
        f"error_description={_quoted(description)}",
        f"resource_metadata={_quoted(resource_metadata_url())}",
        f"scope={_quoted(' '.join(scopes))}",
    ]
    return json_response(body, 403, {"WWW-Authenticate": "Bearer " + ", ".join(params)})


def authenticate() -> Response | None:
    """Set `g.principal`, or answer the challenge. Runs as a before_request hook of /mcp."""
    state = app_state()
    verifier = state.verifier
    if verifier is None:
        g.principal = ANONYMOUS
        return None
    # Repeated Authorization headers arrive joined with "," (WSGI), which fails the Bearer format check.
    authorization = request.headers.get("Authorization")
    known = verifier.cached(authorization) if "access_token" not in request.args else None
    if known is not None:
        g.principal = known  # verified before: neither signature work nor the failure limit is needed
        return None
    address = request.remote_addr or "unknown"
    retry_after = state.failed_auth.retry_after(address)
    if retry_after:
        metrics.RATE_LIMITED.labels(limit="auth_failures").inc()
        return json_response({"error": "too_many_requests",
                              "error_description": "Too many failed authentication attempts; retry later"},
                             429, {"Retry-After": str(retry_after)})
    try:
        if "access_token" in request.args:
            raise AuthError(401, "invalid_request", "Tokens are accepted only in the Authorization header",
                            "token_in_query")
        g.principal = verifier.verify(authorization)
    except AuthError as error:
        if error.status == 401:
            state.failed_auth.record_failure(address)
        metrics.AUTH_FAILURES.labels(reason=error.reason).inc()
        audit.warning(
            "authentication failed",
            extra={"event": "auth_failure", "reason": error.reason, "status": error.status,
                   "client_addr": request.remote_addr, "kid": error.kid, "issuer": error.token_issuer,
                   "request_id": g.get("request_id")},
        )
        return challenge(error)
    return None
