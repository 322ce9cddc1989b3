"""A general hook for handlers that ask the client something mid-request (2026-07-28 input-required results).

The product's own question (the person confirming a destructive call) has its own path
(app/protocol/confirmations.py). This module is for handlers that run their own input rounds:
a tool declared with `ToolSpec(input_rounds=True)`, or a prompt/resource of an extra content
provider. Such a handler

- reads what the client brought back — `inputResponses`, `requestState` and the client's declared
  capabilities — from `ctx.input_round`;
- raises `InputRequired` to answer with an input-required result (the protocol layer returns it as
  is, with `resultType: "input_required"`), `MissingClientCapability` when it needs a capability the
  client did not declare (-32021), or `InvalidInputRound` when what came back cannot be used (-32602).

Only the stateless revision has input-required results: in the handshake era the protocol layer
turns `InputRequired` and `MissingClientCapability` into a tool error saying so. A handler that
keeps state between rounds signs it (app/protocol/request_state.RequestStates): the client holds
it and may change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InputRound:
    """What the client sent with this request for a handler's input rounds (empty in the handshake era)."""

    modern: bool = False
    """The request is 2026-07-28, so the handler may answer with an input-required result."""
    responses: dict[str, Any] | None = None
    """`inputResponses`: the answers keyed as the handler's `inputRequests` were; None when not sent."""
    request_state: str | None = None
    """`requestState` as the client echoed it (untrusted until the handler checks it)."""
    client_capabilities: dict[str, Any] = field(default_factory=dict)
    """`_meta["io.modelcontextprotocol/clientCapabilities"]`: only ask for what the client declared."""

    def declares(self, capability: str) -> bool:
        return isinstance(self.client_capabilities.get(capability), dict)


class InputRequired(Exception):
    """Answer the request with an input-required result instead of a complete one. Not an error:
    handlers raise it before doing anything the answers would change."""

    def __init__(self, input_requests: dict[str, dict[str, Any]], request_state: str | None = None) -> None:
        super().__init__(", ".join(input_requests))
        self.input_requests = input_requests
        """key -> embedded request: {"method": "elicitation/create" | "sampling/createMessage" | "roots/list", "params": …}"""
        self.request_state = request_state

    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = {"resultType": "input_required", "inputRequests": self.input_requests}
        if self.request_state is not None:
            result["requestState"] = self.request_state
        return result


class MissingClientCapability(Exception):
    """The request needs a client capability the client did not declare (2026-07-28: -32021, HTTP 400)."""

    def __init__(self, required: dict[str, Any], message: str | None = None) -> None:
        super().__init__(message or f"This request needs the client capability: {', '.join(required)}")
        self.required = required
        """A ClientCapabilities object keyed by the missing capability, e.g. {"sampling": {}}."""


class InvalidInputRound(Exception):
    """The `inputResponses` or `requestState` sent cannot be used (JSON-RPC -32602); the message says why."""
