"""The official Python SDK client (mcp 2.3.0) against real gunicorn, in every mode."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.support.processes import ROOT, GunicornServer, clean_env

EXPECTED_ERA = {"auto": "2026-07-28", "legacy": "2025-11-25", "2026-07-28": "2026-07-28"}


async def _session_facts(target: object, mode: str) -> dict:
    async with Client(target, mode=mode) as client:
        tools = await client.list_tools()
        ok = await client.call_tool("numbers_add", {"a": 2, "b": 40})
        invalid = await client.call_tool("numbers_add", {"a": 2, "b": "forty"})
        failed = await client.call_tool("cluster_fail", {"name": "pg-main"})
        return {
            "version": client.protocol_version,
            "server": client.server_info.name if client.server_info else None,
            "tools": [tool.name for tool in tools.tools],
            "hints": {tool.name: tool.annotations.read_only_hint for tool in tools.tools},
            "ok": (ok.is_error, ok.structured_content, json.loads(ok.content[0].text)),
            "invalid": (invalid.is_error, invalid.content[0].text),
            "failed": (failed.is_error, failed.content[0].text),
        }


@pytest.mark.parametrize("mode", ["auto", "legacy", "2026-07-28"])
def test_python_sdk_lists_and_calls_tools_over_http_in_each_mode(server: GunicornServer, mode: str) -> None:
    facts = asyncio.run(_session_facts(server.mcp_url, mode))

    assert facts["version"] == EXPECTED_ERA[mode]
    # A pinned version adopts a synthesized discover result, so it never learns serverInfo.
    assert facts["server"] == (None if mode == "2026-07-28" else "cnpg-mcp-server")
    assert facts["tools"] == ["text_echo", "numbers_add", "cluster_fail", "server_crash", "output_break"]
    assert facts["hints"]["text_echo"] is True and facts["hints"]["cluster_fail"] is False
    assert facts["ok"] == (False, {"sum": 42}, {"sum": 42})
    assert facts["invalid"][0] is True and "b" in facts["invalid"][1]
    assert facts["failed"] == (True, "cluster 'pg-main' not found in namespace 'db'; clusters there: pg-main, pg-test")


def test_python_sdk_sees_every_request_answered_by_any_worker(server: GunicornServer) -> None:
    """No session state: many short-lived clients spread over both workers all succeed."""

    async def many() -> list[str]:
        async def one(i: int) -> str:
            async with Client(server.mcp_url, mode="legacy" if i % 2 else "auto") as client:
                result = await client.call_tool("text_echo", {"text": f"call-{i}"})
                return result.structured_content["text"]

        return await asyncio.gather(*(one(i) for i in range(12)))

    assert asyncio.run(many()) == [f"call-{i}" for i in range(12)]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_python_sdk_talks_to_the_stdio_transport(mode: str) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", "import sys; from tests.support.stdio_test_tools import main; sys.exit(main())"],
        cwd=str(ROOT),
        env=clean_env(),
    )
    facts = asyncio.run(_session_facts(params, mode))

    assert facts["version"] == EXPECTED_ERA[mode]
    assert facts["ok"] == (False, {"sum": 42}, {"sum": 42})
    assert facts["failed"][0] is True


def test_the_shipped_stdio_entry_point_serves_the_product_catalog() -> None:
    from app.tools.catalog import all_tools

    async def facts() -> tuple[str, str | None, list[str]]:
        params = StdioServerParameters(command=sys.executable, args=["-m", "app.stdio"], cwd=str(ROOT), env=clean_env())
        async with Client(params, mode="legacy") as client:
            tools = await client.list_tools()
            return client.protocol_version, client.server_info.name, [tool.name for tool in tools.tools]

    version, name, tools = asyncio.run(facts())
    assert (version, name) == ("2025-11-25", "cnpg-mcp-server")
    assert tools == [spec.name for spec in all_tools()]
