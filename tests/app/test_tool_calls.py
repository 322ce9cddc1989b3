"""tools/call in both eras: results, isError results, protocol errors, read-only mode."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import INVALID_PARAMS
from werkzeug.test import TestResponse

from tests.app.helpers import client_for, legacy_body, legacy_headers
from tests.conftest import modern_body, modern_headers
from tests.support.tools import SECRET_IN_CRASH, TEST_TOOLS

ERAS = ["legacy", "modern"]
ERROR_STATUS = {"legacy": 200, "modern": 400}


def _post(client: FlaskClient, era: str, method: str, params: dict[str, Any], *, name: str | None = None,
          extra_headers: dict[str, str] | None = None) -> TestResponse:
    if era == "legacy":
        body, headers = legacy_body(method, params, "call-1"), legacy_headers("2025-11-25")
    else:
        body, headers = modern_body(method, params, "call-1"), modern_headers(method, name)
    return client.post("/mcp", json=body, headers={**headers, **(extra_headers or {})})


def _call(client: FlaskClient, era: str, name: str, arguments: dict[str, Any] | None = None,
          extra_headers: dict[str, str] | None = None) -> TestResponse:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return _post(client, era, "tools/call", params, name=name, extra_headers=extra_headers)


def _result(response: TestResponse) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["id"] == "call-1"
    return body["result"]


def _error_text(result: dict[str, Any]) -> str:
    assert result["isError"] is True
    assert "structuredContent" not in result
    [block] = result["content"]
    assert block["type"] == "text"
    return block["text"]


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize(
    ("name", "arguments", "structured"),
    [
        ("text_echo", {"text": "héllo"}, {"text": "héllo", "length": 5}),
        ("numbers_add", {"a": 1000, "b": 0}, {"sum": 1000}),
    ],
)
def test_successful_call_returns_structured_content_and_the_same_json_as_text(
    client: FlaskClient, era: str, name: str, arguments: dict[str, Any], structured: dict[str, Any]
) -> None:
    result = _result(_call(client, era, name, arguments))

    assert result["isError"] is False
    assert result["structuredContent"] == structured
    [block] = result["content"]
    assert block["type"] == "text"
    assert json.loads(block["text"]) == result["structuredContent"]


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"a": 1, "b": "two"}, "b"), ({"a": 1, "b": 5000}, "b"), ({"a": 1}, "b"), ({"a": 2.5, "b": 1}, "a")],
)
def test_invalid_arguments_give_an_error_result_naming_the_field(
    client: FlaskClient, era: str, arguments: dict[str, Any], field: str
) -> None:
    text = _error_text(_result(_call(client, era, "numbers_add", arguments)))

    assert f"{field}:" in text or f"'{field}'" in text


@pytest.mark.parametrize("era", ERAS)
def test_unexpected_argument_gives_an_error_result(client: FlaskClient, era: str) -> None:
    text = _error_text(_result(_call(client, era, "numbers_add", {"a": 1, "b": 2, "admin": True})))

    assert "'admin'" in text


@pytest.mark.parametrize("era", ERAS)
def test_missing_arguments_give_an_error_result_naming_the_required_field(client: FlaskClient, era: str) -> None:
    text = _error_text(_result(_call(client, era, "text_echo")))

    assert "'text'" in text


@pytest.mark.parametrize("era", ERAS)
def test_domain_failure_gives_an_error_result_with_the_domain_message(client: FlaskClient, era: str) -> None:
    text = _error_text(_result(_call(client, era, "cluster_fail", {"name": "pg-gone"})))

    assert "cluster 'pg-gone' not found in namespace 'db'" in text


@pytest.mark.parametrize("era", ERAS)
def test_crash_gives_an_error_result_with_the_request_id_and_leaks_nothing(client: FlaskClient, era: str) -> None:
    response = _call(client, era, "server_crash", {}, extra_headers={"X-Request-Id": "crash-req-42"})

    text = _error_text(_result(response))
    assert "crash-req-42" in text
    everything = response.get_data(as_text=True) + json.dumps(dict(response.headers))
    assert SECRET_IN_CRASH not in everything
    assert "Traceback" not in everything
    assert "RuntimeError" not in everything


@pytest.mark.parametrize("era", ERAS)
def test_output_breaking_its_schema_gives_an_error_result(client: FlaskClient, era: str) -> None:
    response = _call(client, era, "output_break", {}, extra_headers={"X-Request-Id": "out-req-7"})

    text = _error_text(_result(response))
    assert "out-req-7" in text
    assert "unexpected" not in response.get_data(as_text=True)


@pytest.mark.parametrize("era", ERAS)
def test_unknown_tool_is_invalid_params(client: FlaskClient, era: str) -> None:
    response = _call(client, era, "cluster_explode", {})

    assert response.status_code == ERROR_STATUS[era]
    body = response.get_json()
    assert body["id"] == "call-1"
    assert body["error"]["code"] == INVALID_PARAMS
    assert "cluster_explode" in body["error"]["message"]


@pytest.mark.parametrize("era", ERAS)
def test_missing_tool_name_is_invalid_params(client: FlaskClient, era: str) -> None:
    response = _post(client, era, "tools/call", {"arguments": {}}, name="text_echo")

    assert response.status_code == ERROR_STATUS[era]
    assert response.get_json()["id"] == "call-1"
    assert response.get_json()["error"]["code"] == INVALID_PARAMS


@pytest.mark.parametrize(
    "body",
    [
        legacy_body("tools/call"),
        legacy_body("tools/call", {"name": 5}),
        legacy_body("tools/call", {"name": "text_echo", "arguments": [1]}),
    ],
    ids=["no-params", "name-not-string", "arguments-not-object"],
)
def test_legacy_malformed_call_params_are_invalid_params(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/mcp", json=body, headers=legacy_headers())

    assert response.status_code == 200
    assert response.get_json()["error"]["code"] == INVALID_PARAMS


READ_ONLY_TOOLS = [spec.name for spec in TEST_TOOLS if spec.hints.read_only]


@pytest.mark.parametrize("era", ERAS)
def test_read_only_mode_lists_only_read_only_tools(era: str) -> None:
    client = client_for({"MCP_READ_ONLY": "true"})

    result = _result(_post(client, era, "tools/list", {}))

    assert [tool["name"] for tool in result["tools"]] == READ_ONLY_TOOLS == ["text_echo", "numbers_add", "output_break"]
    assert all(tool["annotations"]["readOnlyHint"] is True for tool in result["tools"])


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("name", ["cluster_fail", "server_crash"])
def test_read_only_mode_treats_hidden_tools_as_unknown(era: str, name: str) -> None:
    client = client_for({"MCP_READ_ONLY": "true"})

    response = _call(client, era, name, {"name": "pg"} if name == "cluster_fail" else {})

    assert response.status_code == ERROR_STATUS[era]
    assert response.get_json()["error"]["code"] == INVALID_PARAMS
    assert "Unknown tool" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("era", ERAS)
def test_read_only_mode_still_runs_read_only_tools(era: str) -> None:
    client = client_for({"MCP_READ_ONLY": "true"})

    result = _result(_call(client, era, "numbers_add", {"a": 2, "b": 3}))

    assert result["structuredContent"] == {"sum": 5}
