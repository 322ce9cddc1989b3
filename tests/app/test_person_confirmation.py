"""A person confirms destructive calls (MCP_CONFIRM=person / person-only): the input-required result,
the signed request state bound to caller, tool and arguments, and every way a second call can fail.

The tool here is a test tool (nothing to delete in Kubernetes) whose handler uses the product's own
confirmation gate; tests/integration/test_person_confirmation.py deletes a real cluster through the SDK.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import INVALID_PARAMS

from app import create_app
from app.settings import Settings
from app.tools.common import confirmation, require_confirmation
from app.tools.context import ToolContext
from app.tools.registry import Registry
from app.tools.spec import ToolHints, ToolSpec
from tests.conftest import META_CAPS, modern_body, modern_headers

KEY = "k" * 40
FORM = {"elicitation": {"form": {}}}
CALL = {"name": "thing_delete", "arguments": {"name": "pg-main", "namespace": "db"}}


def _delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_confirmation(ctx, args, args["name"], f"delete thing {args['name']!r} in namespace {args['namespace']!r}")
    return {"deleted": args["name"], "confirmed_by": ctx.confirmation.record.how}


THING_DELETE = ToolSpec(
    name="thing_delete", title="Delete a thing", description="Deletes a thing (test tool).",
    input_schema={"type": "object", "additionalProperties": False, "required": ["name", "namespace", "confirm"],
                  "properties": {"name": {"type": "string"}, "namespace": {"type": "string"},
                                 "confirm": confirmation("Repeat the name to confirm")}},
    output_schema={"type": "object", "properties": {"deleted": {"type": "string"},
                                                     "confirmed_by": {"type": ["string", "null"]}},
                   "required": ["deleted"]},
    hints=ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False),
    handler=_delete,
)


def _restore(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    if args.get("force"):  # like cluster_restore from a backup that is not completed
        ctx.confirmation.require_override(args["name"], f"restore {args['name']!r} from an unfinished backup")
    return {"deleted": args["name"], "confirmed_by": ctx.confirmation.record.how}


THING_RESTORE = ToolSpec(
    name="thing_restore", title="Restore a thing", description="Restores a thing (test tool).",
    input_schema={"type": "object", "additionalProperties": False, "required": ["name"],
                  "properties": {"name": {"type": "string"}, "force": {"type": "boolean", "default": False}}},
    output_schema=THING_DELETE.output_schema,
    hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
    handler=_restore,
)
FORCED = {"name": "thing_restore", "arguments": {"name": "pg-new", "force": True}}


def _client(mode: str, **env: str) -> FlaskClient:
    settings = Settings.from_env({"MCP_CONFIRM": mode, "MCP_REQUEST_STATE_KEY": KEY, **env})
    return create_app(settings, registry=Registry([THING_DELETE, THING_RESTORE])).test_client()


def _call(client: FlaskClient, params: dict[str, Any], caps: dict[str, Any] | None = None,
          legacy: bool = False) -> dict[str, Any]:
    if legacy:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
        answer = client.post("/mcp", json=body, headers={"MCP-Protocol-Version": "2025-11-25"})
    else:
        body = modern_body("tools/call", {**params, "_meta": {META_CAPS: FORM if caps is None else caps}})
        answer = client.post("/mcp", json=body, headers=modern_headers("tools/call", params["name"]))
    return dict(answer.get_json())


def _asked(client: FlaskClient, call: dict[str, Any] = CALL) -> dict[str, Any]:
    result = _call(client, call)["result"]
    assert result["resultType"] == "input_required", result
    return result


def _answer(action: str, confirm: bool = True) -> dict[str, Any]:
    return {"confirm": {"action": action, "content": {"confirm": confirm}} if action == "accept" else {"action": action}}


def test_the_first_call_asks_the_person_what_exactly_will_happen() -> None:
    result = _asked(_client("person"))

    request = result["inputRequests"]["confirm"]
    assert request["method"] == "elicitation/create"
    params = request["params"]
    assert params["mode"] == "form"
    assert "delete thing 'pg-main' in namespace 'db'" in params["message"] and "cannot be undone" in params["message"]
    assert params["requestedSchema"]["properties"]["confirm"]["type"] == "boolean"
    assert params["requestedSchema"]["required"] == ["confirm"]
    assert isinstance(result["requestState"], str) and KEY not in result["requestState"]
    assert "isError" not in result and "content" not in result


def test_the_repeated_call_with_the_persons_yes_runs_the_tool() -> None:
    client = _client("person")
    state = _asked(client)["requestState"]

    result = _call(client, {**CALL, "requestState": state, "inputResponses": _answer("accept")})["result"]

    assert result["resultType"] == "complete" and result["isError"] is False
    assert result["structuredContent"] == {"deleted": "pg-main", "confirmed_by": "person"}


@pytest.mark.parametrize(("answer", "says"), [
    (_answer("decline"), "The person declined to delete thing 'pg-main' in namespace 'db': nothing was changed"),
    (_answer("cancel"), "The person dismissed the question whether to delete thing 'pg-main' in namespace 'db'"),
    (_answer("accept", confirm=False), "The person declined to delete thing 'pg-main'"),
])
def test_a_declined_or_dismissed_question_changes_nothing(answer: dict[str, Any], says: str) -> None:
    client = _client("person")
    state = _asked(client)["requestState"]

    result = _call(client, {**CALL, "requestState": state, "inputResponses": answer})["result"]

    assert result["isError"] is True and says in result["content"][0]["text"]
    assert "structuredContent" not in result


def _tampered(state: str) -> str:
    payload, rest = state.split(".", 1)
    return payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest


@pytest.mark.parametrize(("change", "says"), [
    (lambda s, c: {**c, "requestState": _tampered(s)}, "was not issued by this server or was changed"),
    (lambda s, c: {**c, "requestState": "not-a-state"}, "was not issued by this server or was changed"),
    (lambda s, c: {**c, "requestState": 42}, "Invalid params for 'tools/call': requestState"),
    (lambda s, c: {**c, "requestState": s, "arguments": {**c["arguments"], "name": "pg-other"}},
     "was issued for other arguments of thing_delete"),
    (lambda s, c: {"name": "thing_delete", "arguments": {**c["arguments"], "namespace": "prod"}, "requestState": s},
     "was issued for other arguments"),
    (lambda s, c: {**c, "inputResponses": _answer("accept")}, "inputResponses came without the requestState"),
    (lambda s, c: {**c, "requestState": s, "inputResponses": {"confirm": "yes"}},
     "Invalid params for 'tools/call': inputResponses.confirm"),  # the mcp package's shape check, first
    (lambda s, c: {**c, "requestState": s, "inputResponses": {"other": {"action": "accept", "content": {}}}},
     "inputResponses.confirm must be the answer to the confirmation form"),
    (lambda s, c: {**c, "requestState": s, "inputResponses": None}, "must be the answer to the confirmation form"),
])
def test_a_state_that_does_not_belong_to_this_call_is_refused(change: Any, says: str) -> None:
    client = _client("person")
    state = _asked(client)["requestState"]
    params = change(state, CALL)
    params.setdefault("inputResponses", _answer("accept"))

    reply = _call(client, params)

    assert reply["error"]["code"] == INVALID_PARAMS and says in reply["error"]["message"], reply
    assert "result" not in reply


def test_a_state_from_another_key_or_for_another_caller_is_refused() -> None:
    state = _asked(_client("person", MCP_REQUEST_STATE_KEY="o" * 40))["requestState"]

    reply = _call(_client("person"), {**CALL, "requestState": state, "inputResponses": _answer("accept")})

    assert "was not issued by this server or was changed" in reply["error"]["message"]


def test_an_expired_state_is_refused_with_the_time_allowed() -> None:
    client = _client("person", MCP_CONFIRM_TTL_SECONDS="1")
    state = _asked(client)["requestState"]
    time.sleep(2.1)  # itsdangerous stamps whole seconds: past the TTL for certain

    reply = _call(client, {**CALL, "requestState": state, "inputResponses": _answer("accept")})

    assert "requestState expired: an answer must come within 1 seconds" in reply["error"]["message"]


@pytest.mark.parametrize(("caps", "legacy"), [({}, False), ({"elicitation": {"url": {}}}, False), (None, True)])
def test_clients_that_cannot_ask_a_person_keep_the_confirm_argument(caps: Any, legacy: bool) -> None:
    client = _client("person")
    without = _call(client, CALL, caps, legacy)["result"]
    wrong = _call(client, {**CALL, "arguments": {**CALL["arguments"], "confirm": "pg"}}, caps, legacy)["result"]
    right = _call(client, {**CALL, "arguments": {**CALL["arguments"], "confirm": "pg-main"}}, caps, legacy)["result"]

    assert without["isError"] is True and "repeat 'pg-main' exactly in confirm" in without["content"][0]["text"]
    assert wrong["isError"] is True
    assert right["isError"] is False and right["structuredContent"]["confirmed_by"] == "argument"


def test_person_only_refuses_clients_that_cannot_ask_and_drops_the_confirm_argument() -> None:
    client = _client("person-only")
    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()
    refused = _call(client, {**CALL, "arguments": {"name": "pg-main", "namespace": "db"}}, {})["result"]

    schema = listed["result"]["tools"][0]["inputSchema"]
    assert "confirm" not in schema["properties"] and "confirm" not in schema["required"]
    assert refused["isError"] is True and "a person must confirm it, and this client cannot ask one" in (
        refused["content"][0]["text"])
    assert _asked(client)["inputRequests"]["confirm"]["method"] == "elicitation/create"


def test_person_mode_makes_confirm_optional_and_argument_mode_asks_nobody() -> None:
    listed = _client("person").post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()
    schema = listed["result"]["tools"][0]["inputSchema"]
    assert "confirm" in schema["properties"] and "confirm" not in schema["required"]

    argument = create_app(Settings.from_env({}), registry=Registry([THING_DELETE])).test_client()
    result = _call(argument, {**CALL, "arguments": {**CALL["arguments"], "confirm": "pg-main"}})["result"]
    assert result["isError"] is False and result["structuredContent"]["confirmed_by"] == "argument"
    reply = _call(argument, {**CALL, "requestState": "x", "inputResponses": _answer("accept")})
    assert reply["error"]["code"] == INVALID_PARAMS and "MCP_CONFIRM=argument" in reply["error"]["message"]


@pytest.mark.parametrize(("env", "variable"), [({"MCP_CONFIRM": "person"}, "MCP_REQUEST_STATE_KEY"),
                                               ({"MCP_REQUEST_STATE_KEY": "short"}, "MCP_REQUEST_STATE_KEY"),
                                               ({"MCP_CONFIRM": "model"}, "MCP_CONFIRM")])
def test_confirmation_settings_fail_closed(env: dict[str, str], variable: str) -> None:
    from app.settings import SettingsError

    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == variable and "short" not in str(caught.value)


def test_force_overriding_a_safety_objection_asks_the_person_too() -> None:
    client = _client("person")
    unforced = _call(client, {"name": "thing_restore", "arguments": {"name": "pg-new"}})["result"]
    asked = _asked(client, FORCED)
    allowed = _call(client, {**FORCED, "requestState": asked["requestState"], "inputResponses": _answer("accept")})

    assert unforced["structuredContent"]["confirmed_by"] is None  # nothing overridden, nothing to confirm
    assert "restore 'pg-new' from an unfinished backup" in asked["inputRequests"]["confirm"]["params"]["message"]
    assert allowed["result"]["structuredContent"]["confirmed_by"] == "person"


def test_force_is_the_confirmation_where_no_person_can_be_asked() -> None:
    argument = _call(_client("argument"), FORCED)["result"]
    not_eliciting = _call(_client("person"), FORCED, {})["result"]
    person_only = _call(_client("person-only"), FORCED, {})["result"]

    assert argument["structuredContent"]["confirmed_by"] == "argument"
    assert not_eliciting["structuredContent"]["confirmed_by"] == "argument"
    assert person_only["isError"] is True and "a person must confirm it" in person_only["content"][0]["text"]
