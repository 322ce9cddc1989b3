"""The handshake era (2025-03-26 … 2025-11-25): initialize, ping, tools/list, version header."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, UNSUPPORTED_PROTOCOL_VERSION

from tests.app.helpers import initialize_params, legacy_body, legacy_headers
from tests.support.tools import TEST_TOOLS

HANDSHAKE_VERSIONS = ["2025-03-26", "2025-06-18", "2025-11-25"]


def _call(client: FlaskClient, method: str, params: dict[str, Any] | None = None, *, version: str | None = "2025-11-25",
          request_id: int | str = 1) -> tuple[int, dict[str, Any]]:
    response = client.post("/mcp", json=legacy_body(method, params, request_id), headers=legacy_headers(version))
    return response.status_code, response.get_json()


@pytest.mark.parametrize("version", HANDSHAKE_VERSIONS)
def test_initialize_echoes_a_supported_version(client: FlaskClient, version: str) -> None:
    status, body = _call(client, "initialize", initialize_params(version), version=None)

    assert status == 200
    assert body["result"]["protocolVersion"] == version


@pytest.mark.parametrize("requested", ["2024-11-05", "1999-01-01", "2026-07-28", "latest"])
def test_initialize_offers_the_latest_handshake_version_for_other_requests(client: FlaskClient, requested: str) -> None:
    status, body = _call(client, "initialize", initialize_params(requested), version=None)

    assert status == 200
    assert body["result"]["protocolVersion"] == "2025-11-25"


def test_initialize_result_identifies_the_server_and_its_tool_capability(client: FlaskClient) -> None:
    status, body = _call(client, "initialize", initialize_params("2025-11-25"), version=None, request_id="init-1")

    assert status == 200
    assert body["id"] == "init-1"
    result = body["result"]
    assert result["serverInfo"]["name"] == "cnpg-mcp-server"
    assert result["serverInfo"]["version"]
    assert "tools" in result["capabilities"]
    assert result["instructions"]


@pytest.mark.parametrize("missing", ["clientInfo", "capabilities"])
def test_initialize_without_required_params_is_invalid_params_in_a_200(client: FlaskClient, missing: str) -> None:
    params = initialize_params("2025-11-25")
    del params[missing]

    status, body = _call(client, "initialize", params, version=None, request_id=5)

    assert status == 200
    assert body["id"] == 5
    assert body["error"]["code"] == INVALID_PARAMS
    assert missing in body["error"]["message"]


@pytest.mark.parametrize("version", [None, *HANDSHAKE_VERSIONS])
def test_ping_returns_an_empty_result(client: FlaskClient, version: str | None) -> None:
    status, body = _call(client, "ping", version=version, request_id="p")

    assert status == 200
    assert body == {"jsonrpc": "2.0", "id": "p", "result": {}}


@pytest.mark.parametrize("version", [None, *HANDSHAKE_VERSIONS])
def test_tools_list_returns_the_tools_in_declaration_order_without_modern_fields(
    client: FlaskClient, version: str | None
) -> None:
    status, body = _call(client, "tools/list", version=version)

    assert status == 200
    result = body["result"]
    assert [tool["name"] for tool in result["tools"]] == [spec.name for spec in TEST_TOOLS]
    for field in ("resultType", "ttlMs", "cacheScope", "_meta"):
        assert field not in result


def test_tools_list_is_identical_when_asked_twice(client: FlaskClient) -> None:
    _, first = _call(client, "tools/list")
    _, second = _call(client, "tools/list")

    assert first == second


def test_tools_list_entries_carry_schemas_and_annotations(client: FlaskClient) -> None:
    _, body = _call(client, "tools/list", version="2025-06-18")

    for tool, spec in zip(body["result"]["tools"], TEST_TOOLS, strict=True):
        assert tool["inputSchema"] == dict(spec.input_schema)
        assert tool["outputSchema"] == dict(spec.output_schema)
        assert tool["annotations"]["readOnlyHint"] is spec.hints.read_only
        assert tool["annotations"]["destructiveHint"] is spec.hints.destructive


def test_tools_list_with_a_cursor_is_invalid_params(client: FlaskClient) -> None:
    status, body = _call(client, "tools/list", {"cursor": "page-2"})

    assert status == 200
    assert body["error"]["code"] == INVALID_PARAMS


@pytest.mark.parametrize("version", ["1999-01-01", "2024-11-05", "2025-13-45", "garbage"])
def test_unsupported_version_header_answers_400_naming_supported_versions(client: FlaskClient, version: str) -> None:
    status, body = _call(client, "tools/list", version=version, request_id=9)

    assert status == 400
    assert body["id"] == 9
    assert body["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
    data = body["error"]["data"]
    assert data["requested"] == version
    assert set(HANDSHAKE_VERSIONS) <= set(data["supported"])


@pytest.mark.parametrize("method", ["resources/subscribe", "sampling/createMessage", "logging/setLevel", "server/discover", "nope"])
def test_unknown_method_is_method_not_found_with_the_id(client: FlaskClient, method: str) -> None:
    status, body = _call(client, method, {}, request_id="m-1")

    assert status == 200
    assert body["id"] == "m-1"
    assert body["error"]["code"] == METHOD_NOT_FOUND


def test_tools_list_answers_each_request_with_its_own_id_from_the_shared_encoding(client: FlaskClient) -> None:
    # The list is encoded once per protocol version and scope set; only the id differs per request.
    answers = [
        client.post("/mcp", json={"jsonrpc": "2.0", "id": request_id, "method": "tools/list"}).get_json()
        for request_id in (7, "seven", 0)
    ]
    assert [a["id"] for a in answers] == [7, "seven", 0]
    assert answers[0]["result"] == answers[1]["result"] == answers[2]["result"]
    assert answers[0]["result"]["tools"]
