"""A person confirms destructive tool calls through their client (MCP_CONFIRM=person or person-only).

Protocol 2026-07-28 lets a stateless server ask the user mid-request: the first `tools/call` answers
with an input-required result carrying a form elicitation ("Delete cluster 'pg' in namespace 'db' …?")
and a signed request state; the client shows the form and repeats the call with the person's answer
and the state. Any worker or replica can take the second call: everything it needs is in the call.

    first call            → {"resultType": "input_required", "inputRequests": {"confirm": …}, "requestState": S}
    same call + S + accept → the tool runs, confirmed by the person
    same call + S + decline/cancel → a tool error: nothing changed
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import mcp_types as t
from mcp_types.jsonrpc import INVALID_PARAMS

from app.protocol.errors import ProtocolError
from app.protocol.request_state import InvalidRequestState, IssuedFor, RequestStates
from app.protocol.versions import MODERN_VERSIONS
from app.settings import Settings
from app.tools.confirmation import ARGUMENT, Confirmation, PersonConfirmationNeeded
from app.tools.context import ToolContext

INPUT_KEY = "confirm"
"""The key of our one input request, in `inputRequests` and `inputResponses`."""
_PURPOSE = "confirm"


class PersonConfirmations:
    """The confirmation side of `tools/call`, for one server."""

    def __init__(self, settings: Settings) -> None:
        self.mode = settings.confirm_mode
        self._states = (RequestStates(settings.request_state_key, settings.confirm_ttl_seconds)
                        if settings.request_state_key else None)

    def for_call(self, params: Mapping[str, Any], version: str, ctx: ToolContext, tool: str,
                 arguments: dict[str, Any], request_id: Any) -> tuple[ToolContext, dict[str, Any] | None]:
        """The call's context with its confirmation policy, and the result to answer at once when the
        person declined or cancelled (None: run the tool).

        Raises:
            ProtocolError: -32602 for a request state or input responses this call cannot use.
        """
        modern = version in MODERN_VERSIONS
        has_state, has_responses = "requestState" in params, "inputResponses" in params
        confirmation = Confirmation(mode=self.mode, can_elicit=modern and _can_elicit(params))
        if not (modern and (has_state or has_responses)):
            return replace(ctx, confirmation=confirmation), None
        if self._states is None or self.mode == ARGUMENT:
            raise ProtocolError(INVALID_PARAMS, "This server asks nothing of the client (MCP_CONFIRM=argument): "
                                "send tools/call without requestState or inputResponses", request_id=request_id)
        responses = params.get("inputResponses")
        if not has_state:
            raise ProtocolError(INVALID_PARAMS, "inputResponses came without the requestState this server issued "
                                "with its question: repeat the call with both", request_id=request_id)
        try:
            what = self._states.check(params.get("requestState"), _bound(ctx, tool, arguments))
        except InvalidRequestState as exc:
            raise ProtocolError(INVALID_PARAMS, f"Invalid requestState: {exc}", request_id=request_id) from None
        answer = responses.get(INPUT_KEY) if isinstance(responses, dict) else None
        if not isinstance(answer, dict) or answer.get("action") not in ("accept", "decline", "cancel"):
            raise ProtocolError(INVALID_PARAMS, f"inputResponses.{INPUT_KEY} must be the answer to the confirmation "
                                "form: {\"action\": \"accept\" | \"decline\" | \"cancel\", \"content\": "
                                "{\"confirm\": true}}", request_id=request_id)
        content = answer.get("content") if isinstance(answer.get("content"), dict) else {}
        if answer["action"] == "accept" and content.get("confirm") is True:
            return replace(ctx, confirmation=replace(confirmation, by_person=True)), None
        if answer["action"] == "cancel":
            refusal = f"The person dismissed the question whether to {what}: nothing was changed."
        else:
            refusal = f"The person declined to {what}: nothing was changed. Do not retry unless they ask."
        return replace(ctx, confirmation=confirmation), {"content": [{"type": "text", "text": refusal}],
                                                         "isError": True}

    def ask(self, need: PersonConfirmationNeeded, ctx: ToolContext, tool: str,
            arguments: dict[str, Any]) -> dict[str, Any]:
        """The input-required result that asks the person (2026-07-28 only: `can_elicit` implies it)."""
        assert self._states is not None  # MCP_CONFIRM=person* requires the key (settings)
        where = f" in context {ctx.kube.context!r}" if ctx.kube.context else ""
        message = f"Your assistant wants to {need.action}{where} (tool {tool}). This cannot be undone. Allow it?"
        form = t.ElicitRequest(params=t.ElicitRequestFormParams(
            message=message,
            requested_schema={"type": "object", "required": ["confirm"], "properties": {"confirm": {
                "type": "boolean", "title": "Allow", "default": False,
                "description": f"Yes, {need.action}{where}"}}}))
        return {
            "resultType": "input_required",
            "inputRequests": {INPUT_KEY: form.model_dump(by_alias=True, mode="json", exclude_none=True)},
            "requestState": self._states.issue(_bound(ctx, tool, arguments), need.action + where),
        }


def _bound(ctx: ToolContext, tool: str, arguments: dict[str, Any]) -> IssuedFor:
    return IssuedFor(subject=ctx.principal.subject, tool=tool, arguments=arguments, purpose=_PURPOSE)


def _can_elicit(params: Mapping[str, Any]) -> bool:
    """Form elicitation in the request's client capabilities (`elicitation: {}` means form, for
    clients written before modes existed)."""
    meta = params.get("_meta")
    capabilities = meta.get(t.CLIENT_CAPABILITIES_META_KEY) if isinstance(meta, dict) else None
    elicitation = capabilities.get("elicitation") if isinstance(capabilities, dict) else None
    if not isinstance(elicitation, dict):
        return False
    return "form" in elicitation or "url" not in elicitation
