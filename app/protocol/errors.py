"""Protocol-level failures: they become JSON-RPC errors, not tool results."""

from __future__ import annotations

from typing import Any

from mcp_types.jsonrpc import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, UNSUPPORTED_PROTOCOL_VERSION

from app.protocol.versions import ALL_SERVED_VERSIONS

RequestId = str | int


class ProtocolError(Exception):
    """A JSON-RPC error to send back; `request_id` is None when it could not be read."""

    def __init__(self, code: int, message: str, *, data: Any = None, request_id: RequestId | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.request_id = request_id


def invalid_request(message: str, request_id: RequestId | None = None) -> ProtocolError:
    return ProtocolError(INVALID_REQUEST, message, request_id=request_id)


def invalid_params(message: str, request_id: RequestId | None) -> ProtocolError:
    return ProtocolError(INVALID_PARAMS, message, request_id=request_id)


def method_not_found(method: str, available: list[str], request_id: RequestId | None) -> ProtocolError:
    return ProtocolError(
        METHOD_NOT_FOUND,
        f"Method not found: {method!r}. This server answers: {', '.join(available)}",
        request_id=request_id,
    )


def unsupported_version(requested: str, request_id: RequestId | None) -> ProtocolError:
    return ProtocolError(
        UNSUPPORTED_PROTOCOL_VERSION,
        f"Unsupported protocol version {requested!r}; supported: {', '.join(ALL_SERVED_VERSIONS)}",
        data={"supported": list(ALL_SERVED_VERSIONS), "requested": requested},
        request_id=request_id,
    )
