"""Registry: refuses bad declarations at start-up, lists tools in order, shapes call results."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from app.tools.errors import UnknownToolError
from app.tools.registry import Registry
from app.tools.spec import ToolHints, ToolSpec
from tests.support.tools import ADD, CRASH, ECHO, SECRET_IN_CRASH, TEST_TOOLS, test_registry, tool_context

CTX = tool_context()
CLOSED = {"type": "object", "properties": {}, "additionalProperties": False}


def _variant(**changes: Any) -> ToolSpec:
    return dataclasses.replace(ECHO, **changes)


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Registry([ECHO, ADD, _variant(title="Echo again")])


@pytest.mark.parametrize(
    "name",
    ["List Clusters", "x", "a" * 129, "cluster", "Cluster_list", "cluster-list", "cluster.list", "_cluster_list",
     "cluster_list_", "cluster__list", "1cluster_list", ""],
)
def test_names_not_in_resource_verb_lower_snake_case_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="snake case"):
        Registry([_variant(name=name)])


@pytest.mark.parametrize("name", ["cluster_list", "backup_create", "pooler_scale_up", "db2_list"])
def test_resource_verb_names_are_accepted(name: str) -> None:
    assert Registry([_variant(name=name)]).names == [name]


@pytest.mark.parametrize(
    "input_schema",
    [
        {"type": "object", "properties": {"text": {"type": "string"}}},
        {"type": "object", "properties": {"text": {"type": "string"}}, "additionalProperties": True},
        {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
    ],
)
def test_open_input_schemas_are_refused(input_schema: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="additionalProperties"):
        Registry([_variant(input_schema=input_schema)])


@pytest.mark.parametrize(
    "change",
    [
        {"input_schema": {"type": "string"}},
        {"input_schema": {"type": "array", "items": {"type": "string"}}},
        {"input_schema": {"properties": {}, "additionalProperties": False}},
        {"output_schema": {"type": "string"}},
        {"output_schema": {"type": "array"}},
    ],
)
def test_non_object_schemas_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="type 'object'"):
        Registry([_variant(**change)])


@pytest.mark.parametrize(
    "change",
    [
        {"input_schema": {"type": "object", "properties": 5, "additionalProperties": False}},
        {"input_schema": {"type": "object", "required": "text", "additionalProperties": False}},
        {"output_schema": {"type": "thing"}},
    ],
)
def test_invalid_json_schemas_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"tool '\w+': invalid (input|output) schema"):
        Registry([_variant(**change)])


@pytest.mark.parametrize("change", [{"description": ""}, {"description": "   \n"}, {"title": ""}])
def test_empty_description_or_title_is_refused(change: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="title and a description"):
        Registry([_variant(**change)])


def test_read_only_tool_cannot_be_declared_destructive() -> None:
    with pytest.raises(ValueError, match="read-only"):
        ToolHints(read_only=True, destructive=True, idempotent=True, open_world=False)


def test_wire_tools_follow_declaration_order() -> None:
    registry = test_registry()

    assert [tool["name"] for tool in registry.wire_tools()] == [spec.name for spec in TEST_TOOLS]
    assert registry.names == [spec.name for spec in TEST_TOOLS]
    reversed_registry = Registry(reversed(TEST_TOOLS))
    assert [tool["name"] for tool in reversed_registry.wire_tools()] == [spec.name for spec in reversed(TEST_TOOLS)]


@pytest.mark.parametrize("spec", TEST_TOOLS, ids=lambda spec: spec.name)
def test_every_wire_tool_states_all_four_annotation_hints(spec: ToolSpec) -> None:
    wire = next(tool for tool in test_registry().wire_tools() if tool["name"] == spec.name)

    assert wire["annotations"]["readOnlyHint"] is spec.hints.read_only
    assert wire["annotations"]["destructiveHint"] is spec.hints.destructive
    assert wire["annotations"]["idempotentHint"] is spec.hints.idempotent
    assert wire["annotations"]["openWorldHint"] is spec.hints.open_world
    assert wire["inputSchema"] == dict(spec.input_schema)
    assert wire["outputSchema"] == dict(spec.output_schema)
    assert (wire["title"], wire["description"]) == (spec.title, spec.description)


def test_filtered_keeps_only_accepted_tools_in_order() -> None:
    registry = test_registry()

    read_only = registry.filtered(lambda spec: spec.hints.read_only)

    assert read_only.names == ["text_echo", "numbers_add", "output_break"]
    assert [tool["name"] for tool in read_only.wire_tools()] == read_only.names
    assert registry.names == [spec.name for spec in TEST_TOOLS]  # the original is untouched


def test_filtered_out_tool_is_unknown() -> None:
    read_only = test_registry().filtered(lambda spec: spec.hints.read_only)

    with pytest.raises(UnknownToolError):
        read_only.call("cluster_fail", {"name": "pg"}, CTX)


@pytest.mark.parametrize(
    ("name", "arguments", "structured"),
    [
        ("text_echo", {"text": "hello"}, {"text": "hello", "length": 5}),
        ("numbers_add", {"a": 2, "b": 40}, {"sum": 42}),
    ],
)
def test_successful_call_returns_structured_content_and_the_same_json_as_text(
    name: str, arguments: dict[str, Any], structured: dict[str, Any]
) -> None:
    result = test_registry().call(name, arguments, CTX)

    assert result["isError"] is False
    assert result["structuredContent"] == structured
    [block] = result["content"]
    assert block["type"] == "text"
    assert json.loads(block["text"]) == result["structuredContent"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"a": 1, "b": "two"}, "b"),
        ({"a": 1, "b": 1001}, "b"),
        ({"a": 1}, "b"),
        ({"a": -1, "b": 1}, "a"),
    ],
)
def test_invalid_arguments_give_an_error_result_naming_the_field(arguments: dict[str, Any], field: str) -> None:
    result = test_registry().call("numbers_add", arguments, CTX)

    assert result["isError"] is True
    assert "structuredContent" not in result
    assert f"'{field}'" in result["content"][0]["text"] or f"{field}:" in result["content"][0]["text"]


def test_unexpected_argument_gives_an_error_result() -> None:
    result = test_registry().call("numbers_add", {"a": 1, "b": 2, "c": 3}, CTX)

    assert result["isError"] is True
    assert "'c'" in result["content"][0]["text"]


def test_missing_arguments_are_validated_as_an_empty_object() -> None:
    result = test_registry().call("text_echo", None, CTX)

    assert result["isError"] is True
    assert "'text'" in result["content"][0]["text"]


def test_domain_error_becomes_an_error_result_with_its_message() -> None:
    result = test_registry().call("cluster_fail", {"name": "pg-x"}, CTX)

    assert result["isError"] is True
    assert "cluster 'pg-x' not found in namespace 'db'" in result["content"][0]["text"]


def test_unexpected_crash_becomes_an_error_result_with_the_request_id_and_no_internals() -> None:
    result = Registry([CRASH]).call("server_crash", {}, CTX)

    assert result["isError"] is True
    text = json.dumps(result)
    assert "req-test-1" in text
    assert SECRET_IN_CRASH not in text
    assert "Traceback" not in text


def test_output_violating_its_schema_becomes_an_error_result() -> None:
    result = test_registry().call("output_break", {}, CTX)

    assert result["isError"] is True
    assert "structuredContent" not in result
    assert "req-test-1" in result["content"][0]["text"]


def test_unknown_tool_raises_unknown_tool_error_listing_available_tools() -> None:
    with pytest.raises(UnknownToolError) as caught:
        test_registry().call("cluster_explode", {}, CTX)

    assert caught.value.name == "cluster_explode"
    assert "text_echo" in str(caught.value)


def test_empty_registry_lists_nothing() -> None:
    registry = Registry([])

    assert registry.wire_tools() == []
    with pytest.raises(UnknownToolError):
        registry.call("text_echo", {"text": "x"}, CTX)


def test_declaration_with_closed_empty_schemas_is_accepted() -> None:
    registry = Registry([_variant(name="cluster_ping", input_schema=CLOSED, output_schema={"type": "object"})])

    assert registry.names == ["cluster_ping"]
