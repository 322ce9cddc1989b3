"""Authentication under real gunicorn: shared rate-limit counters in real Redis across 4 workers,
Redis outages, and real MCP clients with and without a token."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from devenv.idp import LocalIdP
from devenv.redis import LocalRedis
from tests.integration.conftest import IDP_RESOURCE
from tests.support.node import node_env, package_bin
from tests.support.processes import GunicornServer

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


@pytest.fixture
def authed_server(idp: LocalIdP, redis_server: LocalRedis) -> Iterator[GunicornServer]:
    with GunicornServer(
        "wsgi:app", workers=4,
        OIDC_ISSUER=idp.issuer, OIDC_AUDIENCE=IDP_RESOURCE, RATELIMIT_STORAGE_URI=redis_server.url,
        AUTH_FAILURE_LIMIT="5/minute",
    ) as server:
        yield server


def _bad_requests(server: GunicornServer, count: int, address_hint: str) -> Counter[int]:
    # A fresh connection per request so gunicorn spreads them over its workers.
    statuses = [
        requests.post(server.mcp_url, json=LIST, headers={"Authorization": f"Bearer bad.{address_hint}.{i}",
                                                          "Connection": "close"}, timeout=10).status_code
        for i in range(count)
    ]
    return Counter(statuses)


def test_redis_makes_the_failed_auth_limit_exact_across_four_workers(
    authed_server: GunicornServer, redis_server: LocalRedis
) -> None:
    statuses = _bad_requests(authed_server, 16, "a")

    assert statuses == Counter({401: 5, 429: 11})


def test_with_redis_down_limits_fall_back_to_each_worker_and_nothing_fails(
    authed_server: GunicornServer, redis_server: LocalRedis, idp: LocalIdP
) -> None:
    token = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    redis_server.stop()
    try:
        statuses = _bad_requests(authed_server, 40, "b")
        good = requests.post(authed_server.mcp_url, json=LIST, headers={"Authorization": f"Bearer {token}"},
                             timeout=10)
    finally:
        redis_server.start()

    # Chosen behaviour: per-worker in-memory counters (4 workers × 5), never a 500.
    assert set(statuses) <= {401, 429} and statuses[429] > 0
    assert 5 <= statuses[401] <= 20
    assert good.status_code in (200, 429)  # 429 only if this address is still over its per-worker limit


@pytest.fixture(scope="module")
def token_server(idp: LocalIdP) -> Iterator[GunicornServer]:
    with GunicornServer("tests.support.wsgi_test_tools:app", OIDC_ISSUER=idp.issuer,
                        OIDC_AUDIENCE=IDP_RESOURCE, AUTH_FAILURE_LIMIT="1000/minute") as server:
        yield server


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_python_sdk_connects_with_a_real_token(token_server: GunicornServer, idp: LocalIdP, mode: str) -> None:
    token = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)

    async def run() -> tuple[str, list[str]]:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with http, _client(token_server.mcp_url, http, mode) as client:
            tools = await client.list_tools()
            return client.protocol_version, [tool.name for tool in tools.tools]

    version, tools = asyncio.run(run())
    assert version == ("2026-07-28" if mode == "auto" else "2025-11-25")
    assert tools[:2] == ["text_echo", "numbers_add"]


def _client(url: str, http: Any, mode: str) -> Client:
    return Client(streamable_http_client(url, http_client=http), mode=mode)


def test_python_sdk_without_a_token_meets_the_401_challenge(token_server: GunicornServer) -> None:
    async def run() -> None:
        http = create_mcp_http_client()
        async with http, _client(token_server.mcp_url, http, "legacy") as client:
            await client.list_tools()

    # Without an OAuth provider configured the SDK cannot answer the challenge: the session fails.
    with pytest.raises(BaseExceptionGroup, match="unhandled errors"):
        asyncio.run(run())
    raw = requests.post(token_server.mcp_url, json=LIST, timeout=10)

    assert raw.status_code == 401
    assert "resource_metadata=" in raw.headers["WWW-Authenticate"]


def _inspector(server: GunicornServer, *extra: str) -> subprocess.CompletedProcess[str]:
    command = package_bin("@modelcontextprotocol/inspector", "mcp-inspector") + [
        "--cli", server.mcp_url, "--transport", "http", "--format", "json", "--method", "tools/list",
        "--stored-auth-only", *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=node_env(), timeout=180)


def test_inspector_cli_lists_tools_with_a_token_and_reports_auth_required_without(
    token_server: GunicornServer, idp: LocalIdP
) -> None:
    token = idp.token("mcp-client-es", scope="openid", resource=IDP_RESOURCE)

    with_token = _inspector(token_server, "--header", f"Authorization: Bearer {token}")
    without = _inspector(token_server)

    assert with_token.returncode == 0, with_token.stderr[-2000:]
    assert json.loads(with_token.stdout)["result"]["tools"][0]["name"] == "text_echo"
    assert without.returncode == 3, (without.returncode, without.stdout[-1000:], without.stderr[-1000:])
