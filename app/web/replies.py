"""JSON responses shared by the blueprints."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_text_response(json.dumps(body, separators=(",", ":")), status, headers)


def json_text_response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response whose JSON is already encoded."""
    response = Response(text, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def jsonrpc_error(code: int, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """A JSON-RPC error for failures found before the body could be read (id is null)."""
    return json_response({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}, status, headers)
