"""The whole path a desktop MCP client takes with an IdP that offers no open registration, with
real parts only: real gunicorn, the real local IdP (login and consent pages, authorization code
with PKCE, resource indicators) and the MCP Python SDK's own OAuth client provider.

The SDK starts from the 401 on /mcp, reads the protected-resource metadata, then the IdP's
metadata, which names no registration endpoint, so it registers at /register on the MCP server:
the proxy. The test plays the user in the browser (it submits the IdP's forms over HTTP), and the
SDK exchanges the code and lists and calls tools. Once per backend.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import jwt
import pytest
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from devenv.idp import LocalIdP
from tests.support.oauth import MemoryTokenStorage
from tests.support.processes import GunicornServer, free_port

# Nothing listens there: like a desktop client's loopback listener, whose port changes every run.
REDIRECT_URI = f"http://127.0.0.1:{free_port()}/callback"


@dataclass
class Session:
    """What one SDK run saw and did."""

    storage: MemoryTokenStorage = field(default_factory=MemoryTokenStorage)
    authorization_url: str = ""
    callback: str = ""
    tools: list[str] = field(default_factory=list)
    call_result: Any = None


async def _connect(server: GunicornServer, idp: LocalIdP) -> Session:
    seen = Session()

    async def redirect_handler(authorization_url: str) -> None:
        # The "browser": log in and consent at the IdP, stop at the redirect to the loopback URI.
        seen.authorization_url = authorization_url
        seen.callback = await anyio.to_thread.run_sync(idp.authorize, authorization_url, REDIRECT_URI)

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(seen.callback).query)
        assert "code" in query, f"the IdP redirected without a code: {seen.callback}"
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query["iss"][0])

    provider = OAuthClientProvider(
        server.mcp_url,
        OAuthClientMetadata(redirect_uris=[REDIRECT_URI], client_name="cnpg e2e desktop client",
                            grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                            token_endpoint_auth_method="none"),
        seen.storage, redirect_handler, callback_handler,
    )
    http = create_mcp_http_client(auth=provider)
    async with http, Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
        seen.tools = [tool.name for tool in (await client.list_tools()).tools]
        seen.call_result = await client.call_tool("numbers_add", {"a": 2, "b": 40})
    return seen


def _server(idp_for: Callable[[str], LocalIdP],
            env_for: Callable[[LocalIdP], dict[str, str]]) -> Iterator[tuple[GunicornServer, LocalIdP]]:
    """gunicorn on a port chosen first, so the IdP can take its /mcp URL as resource indicator (the SDK
    sends resource=<the URL it connects to>, RFC 8707) and tokens carry it as audience."""
    port = free_port()
    idp = idp_for(f"http://127.0.0.1:{port}/mcp")
    with GunicornServer("tests.support.wsgi_test_tools:app", port=port, OIDC_ISSUER=idp.issuer,
                        OIDC_AUDIENCE=f"http://127.0.0.1:{port}/mcp", LOG_LEVEL="INFO", **env_for(idp)) as server:
        yield server, idp


def _access_log(server: GunicornServer) -> list[tuple[str, str, int]]:
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    return [(e["method"], e["path"], e["status"]) for e in lines if e.get("event") == "http_request"]


def _audit(server: GunicornServer) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("event") == "client_registration"]


def _assert_the_interactive_path(server: GunicornServer, idp: LocalIdP, seen: Session, client_id: str) -> None:
    authorization = parse_qs(urlsplit(seen.authorization_url).query)
    claims = jwt.decode(seen.storage.tokens.access_token, options={"verify_signature": False})
    requests_seen = _access_log(server)

    # The SDK registered through the proxy, logged in with that client, and used its token.
    assert seen.authorization_url.startswith(idp.discovery()["authorization_endpoint"] + "?")
    assert authorization["client_id"] == [client_id]
    assert authorization["code_challenge_method"] == ["S256"]
    assert authorization["resource"] == [server.mcp_url]
    assert (claims["iss"], claims["aud"], claims["client_id"], claims["sub"]) == (
        idp.issuer, server.mcp_url, client_id, "alice")
    assert "numbers_add" in seen.tools
    assert (seen.call_result.is_error, seen.call_result.structured_content) == (False, {"sum": 42})
    # In this order: challenged, discovered, registered, then authorized calls.
    first = {step: requests_seen.index(step) for step in [
        ("POST", "/mcp", 401), ("GET", "/.well-known/oauth-protected-resource/mcp", 200),
        ("POST", "/register", 201), ("POST", "/mcp", 200)]}
    assert list(first.values()) == sorted(first.values()), requests_seen
    registered = [e for e in _audit(server) if e["outcome"] == "registered"]
    assert [(e["client_id"], e["client_name"], e["redirect_uris"]) for e in registered] == [
        (client_id, "cnpg e2e desktop client", [REDIRECT_URI])]


# --- upstream: the IdP's own RFC 7591 endpoint, behind an initial access token ---------------

INITIAL_ACCESS_TOKEN = f"iat-{secrets.token_hex(16)}"


@pytest.fixture(scope="module")
def upstream(idp_factory: Callable[..., LocalIdP]) -> Iterator[tuple[GunicornServer, LocalIdP]]:
    def idp_for(resource: str) -> LocalIdP:
        # Registration needs the token and is not advertised: clients cannot use it on their own.
        return idp_factory([resource], registration=True, initial_access_token=INITIAL_ACCESS_TOKEN,
                           advertise_registration=False, interactive=True)

    yield from _server(idp_for, lambda idp: {
        "DCR_PROXY_BACKEND": "upstream", "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": INITIAL_ACCESS_TOKEN,
        # Not in the IdP's discovery, so the operator names it.
        "DCR_UPSTREAM_REGISTRATION_URL": idp.registration_endpoint})


def test_desktop_client_registers_through_the_upstream_proxy_logs_in_and_calls_tools(
    upstream: tuple[GunicornServer, LocalIdP],
) -> None:
    server, idp = upstream
    anonymous = requests.post(idp.registration_endpoint, json={"redirect_uris": [REDIRECT_URI]}, timeout=10)

    seen = asyncio.run(_connect(server, idp))

    client = seen.storage.client_info
    assert client is not None and client.client_id not in ("mcp-public", "mcp-client")  # created by the IdP
    assert client.token_endpoint_auth_method == "none" and client.client_secret is None
    _assert_the_interactive_path(server, idp, seen, client.client_id)
    # Only the proxy could register: the IdP refuses the same request without the token.
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_token")
    assert "registration_endpoint" not in idp.discovery()
    assert "POST /reg 201" in idp.log_path.read_text()
    # The token the proxy added appears in no log line and no answer.
    assert INITIAL_ACCESS_TOKEN not in server.log_text()
    assert INITIAL_ACCESS_TOKEN not in json.dumps(client.model_dump(mode="json"))


# --- static: one client pre-registered at the IdP, handed to every registration ------------


@pytest.fixture(scope="module")
def static(idp_factory: Callable[..., LocalIdP]) -> Iterator[tuple[GunicornServer, LocalIdP]]:
    def idp_for(resource: str) -> LocalIdP:
        return idp_factory([resource], registration=False, interactive=True)  # no DCR at all

    yield from _server(idp_for, lambda idp: {
        "DCR_PROXY_BACKEND": "static", "DCR_STATIC_CLIENT_ID": "mcp-public",
        "DCR_STATIC_REDIRECT_URIS": "http://127.0.0.1:*/callback"})


def test_desktop_client_gets_the_static_client_logs_in_and_calls_tools(
    static: tuple[GunicornServer, LocalIdP],
) -> None:
    server, idp = static

    seen = asyncio.run(_connect(server, idp))

    client = seen.storage.client_info
    assert client is not None and client.client_id == "mcp-public"
    assert client.client_secret is None and client.token_endpoint_auth_method == "none"
    _assert_the_interactive_path(server, idp, seen, "mcp-public")
    assert "registration_endpoint" not in idp.discovery()
