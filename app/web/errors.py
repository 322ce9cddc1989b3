"""JSON for every error Flask raises itself, never an HTML page or a traceback."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from mcp_types.jsonrpc import INVALID_REQUEST
from werkzeug.exceptions import HTTPException

from app.web.replies import json_response, jsonrpc_error

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        status = exc.code or 500
        if request.path == "/mcp" and status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return jsonrpc_error(INVALID_REQUEST, f"Request body exceeds the {limit}-byte limit", 413)
        return json_response({"error": exc.name, "message": exc.description}, status, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"error": "Internal Server Error", "message": "see the server log"}, 500)
