"""The stateless era (2026-07-28): server/discover, routing headers, per-request _meta."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import (
    HEADER_MISMATCH,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    UNSUPPORTED_PROTOCOL_VERSION,
)

from app import create_app
from app.settings import Settings
from app.tools.registry import Registry
from app.tools.spec import ToolHints, ToolSpec
from tests.conftest import META_CAPS, META_VERSION, MODERN, modern_body, modern_headers
from tests.support.tools import TEST_TOOLS

SERVER_INFO = "io.modelcontextprotocol/serverInfo"
HANDSHAKE_VERSIONS = ["2025-03-26", "2025-06-18", "2025-11-25"]
ECHO_CALL = {"name": "text_echo", "arguments": {"text": "hi"}}


def _post(client: FlaskClient, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = client.post("/mcp", json=body, headers=headers)
    return response.status_code, response.get_json()


def _assert_caching_hints(result: dict[str, Any]) -> None:
    assert result["resultType"] == "complete"
    assert isinstance(result["ttlMs"], int) and not isinstance(result["ttlMs"], bool)
    assert result["ttlMs"] >= 0
    assert result["cacheScope"] in {"public", "private"}


def test_discover_names_every_served_version_with_caching_hints_and_server_info(client: FlaskClient) -> None:
    status, body = _post(client, modern_body("server/discover"), modern_headers("server/discover"))

    assert status == 200
    result = body["result"]
    assert MODERN in result["supportedVersions"]
    assert set(HANDSHAKE_VERSIONS) <= set(result["supportedVersions"])
    assert "tools" in result["capabilities"]
    _assert_caching_hints(result)
    assert result["_meta"][SERVER_INFO]["name"] == "cnpg-mcp-server"


def test_tools_list_carries_result_type_and_caching_hints_in_declaration_order(client: FlaskClient) -> None:
    status, body = _post(client, modern_body("tools/list"), modern_headers("tools/list"))

    assert status == 200
    result = body["result"]
    _assert_caching_hints(result)
    assert [tool["name"] for tool in result["tools"]] == [spec.name for spec in TEST_TOOLS]
    assert result["_meta"][SERVER_INFO]["name"] == "cnpg-mcp-server"


def test_tools_call_with_matching_name_header_succeeds_with_result_type(client: FlaskClient) -> None:
    request, headers = modern_body("tools/call", ECHO_CALL, request_id="c1"), modern_headers("tools/call", "text_echo")

    status, reply = _post(client, request, headers)

    assert status == 200
    assert reply["id"] == "c1"
    result = reply["result"]
    assert result["resultType"] == "complete"
    assert result["isError"] is False
    assert result["structuredContent"] == {"text": "hi", "length": 2}
    assert result["_meta"][SERVER_INFO]["name"] == "cnpg-mcp-server"


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (modern_body("tools/list"), _without(modern_headers("tools/list"), "Mcp-Method")),
        (modern_body("tools/list"), modern_headers("server/discover")),
        (modern_body("tools/list"), modern_headers("tools/List")),
        (modern_body("tools/call", ECHO_CALL), modern_headers("tools/call", "numbers_add")),
        (modern_body("tools/call", ECHO_CALL), modern_headers("tools/call")),
        (modern_body("tools/list", {"_meta": {META_VERSION: "2099-01-01"}}), modern_headers("tools/list")),
    ],
    ids=["method-missing", "method-differs", "method-case-differs", "name-differs", "name-missing",
         "meta-version-differs"],
)
def test_header_that_disagrees_with_the_body_answers_400_header_mismatch(
    client: FlaskClient, body: dict[str, Any], headers: dict[str, str]
) -> None:
    status, reply = _post(client, body, headers)

    assert status == 400
    assert reply["error"]["code"] == HEADER_MISMATCH
    assert reply["id"] == body["id"]


def test_padded_header_values_are_accepted(client: FlaskClient) -> None:
    headers = {**modern_headers("tools/call", "text_echo"), "Mcp-Method": "  tools/call ", "Mcp-Name": " text_echo  "}

    status, body = _post(client, modern_body("tools/call", ECHO_CALL), headers)

    assert status == 200
    assert body["result"]["structuredContent"] == {"text": "hi", "length": 2}


def test_lower_case_header_names_are_accepted(client: FlaskClient) -> None:
    headers = {name.lower(): value for name, value in modern_headers("tools/list").items()}

    status, _ = _post(client, modern_body("tools/list"), headers)

    assert status == 200


@pytest.mark.parametrize(
    "params",
    [
        None,
        {},
        {"_meta": {}},
        {"_meta": {META_CAPS: {}}},
        {"_meta": {META_VERSION: MODERN}},
        {"_meta": "2026-07-28"},
    ],
    ids=["no-params", "no-meta", "empty-meta", "version-missing", "capabilities-missing", "meta-not-object"],
)
def test_missing_envelope_meta_answers_400_invalid_params(client: FlaskClient, params: dict[str, Any] | None) -> None:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 11, "method": "tools/list"}
    if params is not None:
        body["params"] = params

    status, reply = _post(client, body, modern_headers("tools/list"))

    assert status == 400
    assert reply["id"] == 11
    assert reply["error"]["code"] == INVALID_PARAMS


def test_unsupported_version_in_header_and_meta_answers_400_naming_supported_versions(client: FlaskClient) -> None:
    body = modern_body("tools/list", {"_meta": {META_VERSION: "2099-01-01"}}, request_id=12)
    headers = {**modern_headers("tools/list"), "MCP-Protocol-Version": "2099-01-01"}

    status, reply = _post(client, body, headers)

    assert status == 400
    assert reply["id"] == 12
    assert reply["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
    assert reply["error"]["data"]["requested"] == "2099-01-01"
    assert MODERN in reply["error"]["data"]["supported"]


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/subscribe", "nope/nope"])
@pytest.mark.parametrize("request_id", [21, "r-21"])
def test_methods_outside_the_stateless_era_answer_404_method_not_found_with_the_id(
    client: FlaskClient, method: str, request_id: int | str
) -> None:
    status, reply = _post(client, modern_body(method, request_id=request_id), modern_headers(method))

    assert status == 404
    assert reply["id"] == request_id
    assert reply["error"]["code"] == METHOD_NOT_FOUND


@pytest.mark.parametrize(
    "body",
    [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled",
         "params": {"requestId": 1, "_meta": {META_VERSION: MODERN, META_CAPS: {}}}},
    ],
    ids=["bare", "with-meta"],
)
def test_notification_answers_202_with_an_empty_body(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/mcp", json=body, headers=modern_headers(body["method"]))

    assert response.status_code == 202
    assert response.get_data() == b""


def test_jsonrpc_response_answers_400_invalid_request(client: FlaskClient) -> None:
    status, reply = _post(client, {"jsonrpc": "2.0", "id": 1, "result": {}}, modern_headers("tools/list"))

    assert status == 400
    assert reply["error"]["code"] == INVALID_REQUEST


def test_duplicated_routing_header_answers_400_header_mismatch(client: FlaskClient) -> None:
    headers = [(name, value) for name, value in modern_headers("tools/list").items()] + [("Mcp-Method", "tools/list")]

    response = client.post("/mcp", json=modern_body("tools/list"), headers=headers)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == HEADER_MISMATCH


def _namespace_client() -> FlaskClient:
    """An app whose only tool routes on a `namespace` argument mirrored in an Mcp-Param header."""
    spec = ToolSpec(
        name="cluster_get",
        title="Get a cluster",
        description="Return the namespace it was asked about. Use it to test Mcp-Param headers.",
        input_schema={
            "type": "object",
            "properties": {"namespace": {"type": "string", "x-mcp-header": "Namespace"}},
            "required": ["namespace"],
            "additionalProperties": False,
        },
        output_schema={"type": "object", "properties": {"namespace": {"type": "string"}}, "required": ["namespace"]},
        hints=ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False),
        handler=lambda args, ctx: {"namespace": args["namespace"]},
    )
    return create_app(Settings.from_env({}), registry=Registry([spec])).test_client()


@pytest.mark.parametrize(
    ("param_header", "status"),
    [({"Mcp-Param-Namespace": "db"}, 200), ({}, 400), ({"Mcp-Param-Namespace": "other"}, 400)],
    ids=["matching", "missing", "different"],
)
def test_tools_call_checks_mcp_param_headers_against_the_arguments(param_header: dict[str, str], status: int) -> None:
    body = modern_body("tools/call", {"name": "cluster_get", "arguments": {"namespace": "db"}})
    headers = {**modern_headers("tools/call", "cluster_get"), **param_header}

    code, reply = _post(_namespace_client(), body, headers)

    assert code == status
    if status == 200:
        assert reply["result"]["structuredContent"] == {"namespace": "db"}
    else:
        assert reply["error"]["code"] == HEADER_MISMATCH
