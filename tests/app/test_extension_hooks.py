"""The product's extension points for tools that build their own content or run their own input rounds,
and for extra resources/prompts (ContentProvider): what the conformance app is built on."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import INVALID_PARAMS, MISSING_REQUIRED_CLIENT_CAPABILITY

from app import create_app
from app.protocol.providers import ContentProvider, InvalidArguments
from app.settings import Settings
from app.tools.context import ToolContext
from app.tools.input_rounds import InputRequired, InvalidInputRound, MissingClientCapability
from app.tools.registry import Registry
from app.tools.spec import ToolHints, ToolSpec
from tests.app.helpers import initialize_params, legacy_body, legacy_headers
from tests.conftest import META_CAPS, modern_body, modern_headers
from tests.support.tools import ECHO

_READ = ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False)
_NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
_ASK = {"name": {"method": "elicitation/create", "params": {
    "mode": "form", "message": "Name?", "requestedSchema": {"type": "object", "properties": {"n": {"type": "string"}}}}}}


def _picture(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return {"content": [{"type": "image", "data": "AAAA", "mimeType": "image/png"}], "isError": False}


def _broken(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return {"content": [{"type": "image"}]}


def _ask(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    round_ = ctx.input_round
    if not round_.declares("elicitation"):
        raise MissingClientCapability({"elicitation": {}})
    if round_.request_state == "bad":
        raise InvalidInputRound("Invalid requestState: changed")
    answer = (round_.responses or {}).get("name")
    if answer is None:
        raise InputRequired(_ASK, "state-1")
    return {"content": [{"type": "text", "text": f"hello {answer['content']['n']}"}]}


def _content_tool(name: str, handler: Any, input_rounds: bool = False) -> ToolSpec:
    return ToolSpec(name=name, title=name, description=name, input_schema=_NO_ARGS, output_schema=None,
                    hints=_READ, handler=handler, builds_content=True, input_rounds=input_rounds)


class _Extra(ContentProvider):
    def resources(self, ctx: ToolContext) -> list[dict[str, Any]]:
        return [{"uri": "x://one", "name": "one"}]

    def read_resource(self, uri: str, ctx: ToolContext) -> list[dict[str, Any]] | None:
        return [{"uri": uri, "text": "one"}] if uri == "x://one" else None

    def prompts(self, ctx: ToolContext) -> list[dict[str, Any]]:
        return [{"name": "ask_prompt", "description": "asks first"}]

    def get_prompt(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> dict[str, Any] | None:
        if name != "ask_prompt":
            return None
        if arguments.get("bad"):
            raise InvalidArguments("bad is bad")
        if ctx.input_round.responses is None:
            raise InputRequired(_ASK)
        return {"messages": [{"role": "user", "content": {"type": "text", "text": "thanks"}}]}


@pytest.fixture
def hooked() -> FlaskClient:
    registry = Registry([ECHO, _content_tool("picture_get", _picture), _content_tool("picture_break", _broken),
                         _content_tool("name_ask", _ask, input_rounds=True)])
    return create_app(Settings.from_env({}), registry, content=_Extra()).test_client()


def _call(client: FlaskClient, name: str, caps: dict[str, Any] | None = None, **extra: Any) -> tuple[int, dict]:
    params = {"name": name, "arguments": {}, "_meta": {META_CAPS: caps or {}}, **extra}
    response = client.post("/mcp", json=modern_body("tools/call", params), headers=modern_headers("tools/call", name))
    return response.status_code, response.get_json()


def test_a_tool_that_builds_its_content_returns_it_as_built_without_an_output_schema(hooked: FlaskClient) -> None:
    status, body = _call(hooked, "picture_get")

    assert status == 200
    assert body["result"]["content"] == [{"type": "image", "data": "AAAA", "mimeType": "image/png"}]
    assert "structuredContent" not in body["result"]
    listed = hooked.post("/mcp", json=modern_body("tools/list"), headers=modern_headers("tools/list")).get_json()
    tools = {tool["name"]: tool for tool in listed["result"]["tools"]}
    assert "outputSchema" not in tools["picture_get"] and "outputSchema" in tools["text_echo"]


def test_built_content_that_breaks_the_protocol_schema_becomes_a_tool_error(hooked: FlaskClient) -> None:
    status, body = _call(hooked, "picture_break")

    assert status == 200 and body["result"]["isError"] is True
    assert "invalid result" in body["result"]["content"][0]["text"]


def test_declaration_rules_for_the_new_flags() -> None:
    with pytest.raises(ValueError, match="output schema"):
        Registry([ToolSpec(name="a_b", title="t", description="d", input_schema=_NO_ARGS, output_schema=None,
                           hints=_READ, handler=_picture)])
    with pytest.raises(ValueError, match="destructive"):
        Registry([ToolSpec(name="a_b", title="t", description="d", input_schema=_NO_ARGS, output_schema=None,
                           hints=ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False),
                           handler=_picture, builds_content=True, input_rounds=True)])


def test_an_input_round_is_returned_as_is_and_its_answer_comes_back_to_the_handler(hooked: FlaskClient) -> None:
    status, first = _call(hooked, "name_ask", {"elicitation": {}})
    assert status == 200
    assert first["result"]["resultType"] == "input_required"
    assert first["result"]["inputRequests"]["name"]["method"] == "elicitation/create"
    assert first["result"]["requestState"] == "state-1"

    status, second = _call(hooked, "name_ask", {"elicitation": {}}, requestState="state-1",
                           inputResponses={"name": {"action": "accept", "content": {"n": "Ann"}}})
    assert status == 200
    assert second["result"]["resultType"] == "complete"
    assert second["result"]["content"][0]["text"] == "hello Ann"


def test_input_round_errors_are_protocol_errors(hooked: FlaskClient) -> None:
    status, missing = _call(hooked, "name_ask")
    assert status == 400 and missing["error"]["code"] == MISSING_REQUIRED_CLIENT_CAPABILITY
    assert missing["error"]["data"] == {"requiredCapabilities": {"elicitation": {}}}

    status, tampered = _call(hooked, "name_ask", {"elicitation": {}}, requestState="bad", inputResponses={})
    assert status == 400 and tampered["error"]["code"] == INVALID_PARAMS

    status, null = _call(hooked, "name_ask", {"elicitation": {}}, inputResponses=None)
    assert status == 400 and null["error"]["code"] == INVALID_PARAMS


def test_product_tools_keep_the_confirmation_path_for_input_responses(hooked: FlaskClient) -> None:
    """Only tools declared with input_rounds see inputResponses; the others are answered as before."""
    status, body = _call(hooked, "text_echo", requestState="x", inputResponses={})

    assert status == 400 and "MCP_CONFIRM=argument" in body["error"]["message"]


def test_an_input_round_in_the_handshake_era_is_a_tool_error(hooked: FlaskClient) -> None:
    hooked.post("/mcp", json=legacy_body("initialize", initialize_params("2025-11-25")), headers=legacy_headers(None))
    response = hooked.post("/mcp", json=legacy_body("tools/call", {"name": "name_ask", "arguments": {}}),
                           headers=legacy_headers())

    result = response.get_json()["result"]
    assert result["isError"] is True
    assert "2026-07-28" in result["content"][0]["text"]


def test_a_content_provider_adds_resources_and_prompts_next_to_the_products(hooked: FlaskClient) -> None:
    read = hooked.post("/mcp", json=modern_body("resources/read", {"uri": "x://one"}),
                       headers=modern_headers("resources/read", "x://one")).get_json()
    assert read["result"]["contents"] == [{"uri": "x://one", "text": "one"}]

    prompts = hooked.post("/mcp", json=modern_body("prompts/list"), headers=modern_headers("prompts/list")).get_json()
    assert "ask_prompt" in [p["name"] for p in prompts["result"]["prompts"]]

    asked = hooked.post("/mcp", json=modern_body("prompts/get", {"name": "ask_prompt"}),
                        headers=modern_headers("prompts/get", "ask_prompt")).get_json()
    assert asked["result"]["resultType"] == "input_required"
    answered = hooked.post("/mcp", json=modern_body("prompts/get", {"name": "ask_prompt", "inputResponses": {
        "name": {"action": "accept", "content": {"n": "x"}}}}), headers=modern_headers("prompts/get", "ask_prompt"))
    assert answered.get_json()["result"]["messages"][0]["content"]["text"] == "thanks"

    bad = hooked.post("/mcp", json=modern_body("prompts/get", {"name": "ask_prompt", "arguments": {"bad": "1"}}),
                      headers=modern_headers("prompts/get", "ask_prompt"))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == INVALID_PARAMS
