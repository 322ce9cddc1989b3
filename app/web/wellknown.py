"""OAuth discovery documents (RFC 8414, RFC 9728).

Authentication is not built yet, so these answer 404 with a reason: a client
probing them learns that this server needs no token, rather than guessing.
"""

from __future__ import annotations

from flask import Blueprint, Response

from app.web.replies import json_response

bp = Blueprint("wellknown", __name__)


@bp.get("/.well-known/oauth-authorization-server")
@bp.get("/.well-known/oauth-protected-resource")
@bp.get("/.well-known/oauth-protected-resource/mcp")
def metadata() -> Response:
    return json_response(
        {
            "error": "not_found",
            "error_description": "Authentication is disabled (OIDC_ISSUER is unset): no OAuth metadata is published",
        },
        404,
    )
