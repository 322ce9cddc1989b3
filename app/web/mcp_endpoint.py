"""POST /mcp: Streamable HTTP, synchronous, JSON responses only, no sessions."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, request
from mcp_types.jsonrpc import INVALID_REQUEST

from app import metrics
from app.protocol.server import McpServer, Reply
from app.kube import CallerNotMapped
from app.tools.context import new_tool_context
from app.web.auth_guard import authenticate, step_up
from app.web.origin_guard import host_allowed, origin_allowed
from app.web.ratelimit import too_many, tool_call_allowed
from app.web.replies import json_response, json_text_response, jsonrpc_error
from app.web.state import app_state

bp = Blueprint("mcp", __name__)


@bp.before_request
def guard_transport() -> Response | None:
    """Checks that come before reading the body, cheapest first."""
    state = app_state()
    if not host_allowed(request.host, state.settings):
        return jsonrpc_error(INVALID_REQUEST, f"Host {request.host!r} is not served here (see MCP_ALLOWED_HOSTS)", 421)
    if not origin_allowed(request.headers.get("Origin"), state.settings):
        return jsonrpc_error(INVALID_REQUEST, "Origin not allowed (see MCP_ALLOWED_ORIGINS)", 403)
    return None


# After the transport guard: a request from a forbidden Origin never reaches token checks.
bp.before_request(authenticate)


@bp.route("/mcp", methods=["GET", "DELETE", "PUT", "PATCH"])
def not_allowed() -> Response:
    # Stateless server: no SSE stream to GET and no session to DELETE.
    return jsonrpc_error(
        INVALID_REQUEST, f"{request.method} is not supported: this server is stateless; POST JSON-RPC messages", 405,
        {"Allow": "POST"},
    )


@bp.post("/mcp")
def post() -> Response:
    mimetype = request.mimetype
    if mimetype != "application/json":
        return jsonrpc_error(
            INVALID_REQUEST,
            f"Content-Type must be application/json (got {mimetype or 'none'!r})",
            415,
        )
    if request.headers.get("Accept") and request.accept_mimetypes.quality("application/json") <= 0:
        # A missing Accept is fine (curl); an Accept that rules out JSON cannot be served.
        return jsonrpc_error(INVALID_REQUEST, "Accept must allow application/json; this server answers only JSON", 406)
    server: McpServer = app_state().server
    raw = request.get_data(cache=False)  # enforces MAX_CONTENT_LENGTH → 413
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):
        return _send(server.parse_error())
    headers = {name.lower(): value.strip() for name, value in request.headers.items()}
    state = app_state()
    principal = g.principal
    if isinstance(decoded, dict) and decoded.get("method") == "tools/call":
        allowed, retry_after = tool_call_allowed(state.limiter, state.settings, principal.subject)
        if not allowed:
            metrics.RATE_LIMITED.labels(limit="tool_calls").inc()
            return too_many(f"tools/call rate limit ({state.settings.tool_call_limit}) exceeded for this caller",
                            retry_after)
    try:
        ctx = new_tool_context(g.request_id, principal, state.settings, state.kube)
    except CallerNotMapped as exc:
        # The token is valid but cannot be mapped to a Kubernetes user: refuse before any call.
        return json_response({"error": "access_denied", "error_description": str(exc)}, 403)
    return _send(server.handle(decoded, ctx, headers, request.headers.items()))


def _send(reply: Reply) -> Response:
    if reply.step_up_scopes:
        return step_up(reply.body or {}, reply.step_up_scopes)
    if not reply.has_body:
        accepted = Response(status=reply.status)
        del accepted.headers["Content-Type"]  # 202 carries no body, so no media type
        return accepted
    return json_text_response(reply.json(), reply.status)
