"""POST /register: the HTTP side of the Dynamic Client Registration proxy (RFC 7591).

Registered only when DCR_PROXY_BACKEND is set. Public: clients register before they have a token,
so the auth guard of /mcp is not applied here; a per-address rate limit (DCR_RATE_LIMIT), the
validation in app/auth/registration and an audit line per request are what protect it.

Browser clients (the MCP Inspector) call it cross-origin. The origins /mcp accepts are accepted
here too (loopback on any port, MCP_ALLOWED_ORIGINS) and get CORS headers, so their JavaScript can
read the answer; any other Origin gets 403, like /mcp.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from flask_limiter import Limiter
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app import metrics
from app.auth.discovery import DiscoveryError
from app.auth.registration import RegistrationError
from app.auth.registration.errors import INVALID_CLIENT_METADATA, TEMPORARILY_UNAVAILABLE
from app.settings import Settings
from app.web.origin_guard import host_allowed, origin_allowed
from app.web.ratelimit import retry_after_seconds
from app.web.replies import json_response
from app.web.state import app_state

bp = Blueprint("registration", __name__)
audit = logging.getLogger("cnpg_mcp.audit")

# A registration request is a few hundred bytes; refuse big bodies before parsing them.
MAX_REGISTRATION_BYTES = 16 * 1024
_AUDITED_URIS = 10


def install(app: Flask, limiter: Limiter, settings: Settings) -> None:
    """Register the blueprint on `app`, with its per-address limit counted in `limiter`."""
    limiter.limit(settings.dcr_rate_limit, methods=["POST"],
                  error_message="Too many registration requests from this address; retry later")(bp)
    app.register_blueprint(bp)


@bp.before_request
def guard_transport() -> Response | None:
    settings = app_state().settings
    if not host_allowed(request.host, settings):
        return _refuse(RegistrationError(421, "invalid_request",
                                         f"Host {request.host!r} is not served here (see MCP_ALLOWED_HOSTS)"))
    if not origin_allowed(request.headers.get("Origin"), settings):
        return _refuse(RegistrationError(403, "access_denied", "Origin not allowed (see MCP_ALLOWED_ORIGINS)"))
    return None


@bp.after_request
def cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin_allowed(origin, app_state().settings):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After, X-Request-Id"
    response.vary.add("Origin")  # the answer depends on Origin: caches must not share it across origins
    return response


@bp.errorhandler(429)
def too_many(exc: HTTPException) -> Response:
    metrics.RATE_LIMITED.labels(limit="registrations").inc()
    retry = retry_after_seconds(app_state().limiter)
    return _refuse(RegistrationError(429, "too_many_requests", exc.description or "Too many requests",
                                     retry_after=retry), outcome="rate_limited")


@bp.route("/register", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def register() -> Response:
    if request.method == "OPTIONS":
        return _preflight()
    state = app_state()
    body: Any = None
    try:
        body = _read_json()
        provider = _provider_document(state)
        metadata, answer = state.registration.register(body, provider)
    except RegistrationError as error:
        return _refuse(error, body=body)
    metrics.CLIENT_REGISTRATIONS.labels(backend=state.registration.backend, outcome="registered").inc()
    audit.info("client registered", extra={
        **_common(), "outcome": "registered", "status": 201, "client_id": answer.get("client_id"),
        "client_name": metadata.client_name, "redirect_uris": list(metadata.redirect_uris),
        "grant_types": list(metadata.grant_types),
    })
    return json_response(answer, 201, {"Pragma": "no-cache"})


def _read_json() -> Any:
    if request.mimetype != "application/json":
        raise RegistrationError(415, INVALID_CLIENT_METADATA,
                                f"Content-Type must be application/json (got {request.mimetype or 'none'!r})")
    request.max_content_length = MAX_REGISTRATION_BYTES
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise RegistrationError(413, INVALID_CLIENT_METADATA,
                                f"The registration request exceeds {MAX_REGISTRATION_BYTES} bytes") from None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise RegistrationError(400, INVALID_CLIENT_METADATA, "The body is not valid JSON") from None


def _provider_document(state: Any) -> dict[str, Any] | None:
    """The IdP's discovery document: what it supports, and where it registers clients."""
    try:
        return state.verifier.provider.document()
    except DiscoveryError as exc:
        if state.settings.oidc_jwks_uri is not None:
            return None  # an IdP without discovery (OIDC_JWKS_URI): its capabilities are simply unknown
        raise RegistrationError(503, TEMPORARILY_UNAVAILABLE, f"Cannot read the identity provider's metadata: "
                                f"{exc}", retry_after=30) from None


def _preflight() -> Response:
    # Reached only from allowed origins (guard_transport); `cors` adds Access-Control-Allow-Origin.
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _refuse(error: RegistrationError, *, body: Any = None, outcome: str | None = None) -> Response:
    state = app_state()
    outcome = outcome or error.error
    metrics.CLIENT_REGISTRATIONS.labels(backend=state.registration.backend, outcome=outcome).inc()
    requested = body if isinstance(body, dict) else {}
    audit.warning("client registration refused", extra={
        **_common(), "outcome": outcome, "status": error.status, "error": error.error,
        "error_description": error.description,
        "client_name": _short(requested.get("client_name")),
        "redirect_uris": [_short(uri) for uri in requested.get("redirect_uris", [])][:_AUDITED_URIS]
        if isinstance(requested.get("redirect_uris"), list) else None,
    })
    headers = {"Pragma": "no-cache"}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return json_response(error.body(), error.status, headers)


def _common() -> dict[str, Any]:
    backend = app_state().registration.backend
    return {"event": "client_registration", "backend": backend, "client_addr": request.remote_addr,
            "origin": request.headers.get("Origin"), "request_id": g.get("request_id")}


def _short(value: Any) -> str | None:
    """Client-chosen text in the audit log: strings only, one bounded line."""
    if not isinstance(value, str):
        return None
    return "".join(c if c.isprintable() else "?" for c in value[:300])
