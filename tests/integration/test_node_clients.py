"""The TypeScript SDK client and the MCP Inspector CLI against real gunicorn."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.node import NODE, clients_dir, node_env, package_bin
from tests.support.processes import GunicornServer

TOOLS = ["text_echo", "numbers_add", "cluster_fail", "server_crash", "output_break"]


def test_typescript_sdk_negotiates_the_handshake_era_and_calls_tools(server: GunicornServer) -> None:
    run = subprocess.run(
        [NODE, str(clients_dir() / "ts_client.mjs"), server.mcp_url],
        capture_output=True, text=True, env=node_env(), timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    assert seen["protocolVersion"] == "2025-11-25"
    assert seen["sessionId"] is None  # stateless: no Mcp-Session-Id is ever minted
    assert seen["server"]["name"] == "cnpg-mcp-server"
    assert seen["tools"] == TOOLS
    assert seen["annotations"]["cluster_fail"]["destructiveHint"] is True
    assert seen["ok"]["structuredContent"] == {"sum": 42} and seen["ok"]["isError"] is False
    assert seen["failed"]["isError"] is True and "pg-main" in seen["failed"]["content"][0]["text"]
    assert seen["unknown"]["code"] == -32602 and "no_such_tool" in seen["unknown"]["message"]


def _inspector(server: GunicornServer, era: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = package_bin("@modelcontextprotocol/inspector", "mcp-inspector") + [
        "--cli", server.mcp_url, "--transport", "http", "--format", "json", "--protocol-era", era, *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=node_env(), timeout=180)


@pytest.mark.parametrize("era", ["legacy", "auto", "modern"])
def test_inspector_cli_lists_and_calls_tools_in_each_era(server: GunicornServer, era: str) -> None:
    listed = _inspector(server, era, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert [tool["name"] for tool in json.loads(listed.stdout)["result"]["tools"]] == TOOLS

    called = _inspector(
        server, era, "--method", "tools/call", "--tool-name", "numbers_add", "--tool-args-json", '{"a": 1, "b": 2}'
    )
    assert called.returncode == 0, called.stderr[-3000:]
    assert json.loads(called.stdout)["result"]["structuredContent"] == {"sum": 3}


def test_inspector_cli_reports_a_tool_error_with_its_exit_code(server: GunicornServer) -> None:
    failed = _inspector(server, "auto", "--method", "tools/call", "--tool-name", "cluster_fail", "--tool-arg", "name=pg")
    assert failed.returncode == 5  # Inspector's EXIT_CODES.tool_is_error
    assert "not found in namespace" in json.loads(failed.stdout)["result"]["content"][0]["text"]
