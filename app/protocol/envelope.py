"""Reading one JSON-RPC message from a decoded body, with errors that show the fix."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from app.protocol.errors import RequestId, invalid_params, invalid_request

Kind = Literal["request", "notification", "response"]


@dataclass(frozen=True)
class Message:
    kind: Kind
    id: RequestId | None = None
    method: str | None = None
    params: dict[str, Any] | None = None


def _example(method: str, params: Any) -> str:
    corrected = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params if isinstance(params, dict) else {}}
    return json.dumps(corrected, separators=(",", ":"))


def _valid_id(value: Any) -> bool:
    # JSON-RPC ids are strings or integers here; MCP forbids null (and bool is an int in Python).
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def read_message(decoded: Any) -> Message:
    """Classify a decoded POST body as one request, notification or response.

    Raises:
        ProtocolError: the body is not a single well-formed JSON-RPC message.
    """
    if isinstance(decoded, list):
        raise invalid_request("Batch requests are not supported: send one JSON-RPC message per request")
    if not isinstance(decoded, dict):
        raise invalid_request("The body must be a JSON-RPC 2.0 object")
    raw_id = decoded.get("id")
    request_id = raw_id if _valid_id(raw_id) else None
    method = decoded.get("method")

    if method is None:
        if ("result" in decoded or "error" in decoded) and request_id is not None:
            if decoded.get("jsonrpc") != "2.0":
                raise invalid_request('A JSON-RPC response must carry "jsonrpc": "2.0"', request_id)
            return Message(kind="response", id=request_id)
        raise invalid_request('The body needs a "method", e.g. ' + _example("tools/list", {}), request_id)
    if not isinstance(method, str) or not method:
        raise invalid_request('"method" must be a non-empty string', request_id)

    params = decoded.get("params")
    missing = []
    if decoded.get("jsonrpc") != "2.0":
        missing.append('"jsonrpc": "2.0"')
    is_notification = "id" not in decoded and method.startswith("notifications/")
    if "id" not in decoded and not is_notification:
        # JSON-RPC would call this a notification, but nobody wants `tools/list`
        # answered with silence: say how to ask for an answer instead.
        missing.append('an "id"')
    if missing:
        shown = _example(method, params) if not is_notification else json.dumps(
            {"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})},
            separators=(",", ":"),
        )
        raise invalid_request(f"Invalid JSON-RPC request: missing {' and '.join(missing)}. Send: {shown}", request_id)
    if "id" in decoded and request_id is None:
        raise invalid_request('"id" must be a string or an integer (not null)')
    if params is not None and not isinstance(params, dict):
        raise invalid_params('"params" must be an object', request_id)
    return Message(kind="notification" if is_notification else "request", id=request_id, method=method, params=params)
