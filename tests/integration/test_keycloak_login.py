"""A person logs in to a real Keycloak through the MCP Python SDK's own OAuth client, with real parts
only: real gunicorn serving the product's tools against the real control plane, the pinned Keycloak
(devenv/keycloak.py: HTTPS with a CA of this run, the public client `cnpg-mcp-login`, PKCE S256
required) and `mcp.client.auth.OAuthClientProvider`.

The SDK starts from the 401 on /mcp, follows the protected-resource metadata to Keycloak's metadata,
sends the user to Keycloak's authorization endpoint (the test plays the browser: it submits the login
form over HTTP), exchanges the code with its PKCE verifier and lists and calls tools. Keycloak
advertises its own registration endpoint, which refuses anonymous clients: left to itself the SDK
registers there and is refused, never reaching our /register (docs/oidc.md, "When the proxy is used").
So in the login tests the SDK's storage starts with the client that the registration proxy's /register
(static backend) handed out, as a 2025-03-26 client would have registered it.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import jwt
import pytest
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider, OAuthRegistrationError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata

from devenv.controlplane import LocalControlPlane
from devenv.keycloak import AUDIENCE, LOGIN_CLIENT, LocalKeycloak
from tests.support.oauth import MemoryTokenStorage
from tests.support.processes import GunicornServer, free_port

# Nothing listens there: like a desktop client's loopback listener, whose port changes every run.
REDIRECT_URI = f"http://127.0.0.1:{free_port()}/callback"
# With the refresh_token grant the SDK asks for offline_access (Keycloak advertises it): the realm's login
# client offers it as an optional scope, as desktop clients that keep users signed in need.
CLIENT_METADATA = OAuthClientMetadata(redirect_uris=[REDIRECT_URI], client_name="cnpg keycloak desktop client",
                                      grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                                      token_endpoint_auth_method="none")
DRY_RUN_CREATE = {"name": "kc-login", "namespace": "default", "dry_run": True}


@dataclass
class Session:
    """What one SDK run saw and did; `sent`: every HTTP exchange of its client (auth flow included)."""

    storage: MemoryTokenStorage = field(default_factory=MemoryTokenStorage)
    authorization_urls: list[str] = field(default_factory=list)
    callback: str = ""
    sent: list[tuple[str, str, int]] = field(default_factory=list)
    tools: list[list[str]] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)


@pytest.fixture(scope="module")
def keycloak() -> Iterator[LocalKeycloak]:
    with LocalKeycloak() as running:
        yield running


@pytest.fixture(scope="module")
def server(keycloak: LocalKeycloak, controlplane: LocalControlPlane,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    kubeconfig = controlplane.write_kubeconfig(tmp_path_factory.mktemp("keycloak-login") / "admin.yaml", "admin")
    with GunicornServer("wsgi:app", KUBECONFIG=str(kubeconfig), LOG_LEVEL="INFO", OIDC_ISSUER=keycloak.issuer,
                        OIDC_CA_FILE=str(keycloak.ca_file), OIDC_AUDIENCE=AUDIENCE, MCP_SCOPE_READ="mcp:read",
                        MCP_SCOPE_WRITE="mcp:write", MCP_SCOPE_ADMIN="mcp:admin", DCR_PROXY_BACKEND="static",
                        DCR_STATIC_CLIENT_ID=LOGIN_CLIENT,
                        DCR_STATIC_REDIRECT_URIS="http://127.0.0.1:*/callback") as running:
        yield running


def _registered_at_the_proxy(server: GunicornServer) -> OAuthClientInformationFull:
    """What a 2025-03-26 client does: our authorization-server metadata names /register; register there."""
    endpoint = requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=10).json()[
        "registration_endpoint"]
    assert endpoint == f"{server.url}/register"
    answer = requests.post(endpoint, json=CLIENT_METADATA.model_dump(mode="json", exclude_none=True), timeout=10)
    assert answer.status_code == 201, answer.text
    return OAuthClientInformationFull.model_validate(answer.json())


async def _connect(server: GunicornServer, keycloak: LocalKeycloak, seen: Session,
                   calls: list[tuple[str, dict[str, Any]]]) -> None:
    async def redirect_handler(authorization_url: str) -> None:
        # The "browser": log in at Keycloak, stop at the redirect to the loopback URI.
        seen.authorization_urls.append(authorization_url)
        seen.callback = await anyio.to_thread.run_sync(keycloak.authorize, authorization_url, REDIRECT_URI)

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(seen.callback).query)
        assert "code" in query, f"Keycloak redirected without a code: {seen.callback}"
        return AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query["iss"][0])

    async def record(response: httpx2.Response) -> None:
        seen.sent.append((response.request.method, str(response.request.url.copy_with(query=None)),
                          response.status_code))

    provider = OAuthClientProvider(server.mcp_url, CLIENT_METADATA.model_copy(deep=True), seen.storage,
                                   redirect_handler, callback_handler)
    # The SDK's own defaults (create_mcp_http_client), plus trust in Keycloak's CA for its HTTPS.
    http = httpx2.AsyncClient(auth=provider, verify=ssl.create_default_context(cafile=str(keycloak.ca_file)),
                              timeout=httpx2.Timeout(30.0, read=300.0), trust_env=False,
                              event_hooks={"response": [record]})
    async with http, Client(streamable_http_client(server.mcp_url, http_client=http), mode="legacy") as client:
        seen.tools.append([tool.name for tool in (await client.list_tools()).tools])
        for name, arguments in calls:
            seen.results.append(await client.call_tool(name, arguments))
            seen.tools.append([tool.name for tool in (await client.list_tools()).tools])


def _claims(seen: Session) -> dict[str, Any]:
    assert seen.storage.tokens is not None
    return jwt.decode(seen.storage.tokens.access_token, options={"verify_signature": False})


def _tool_calls(server: GunicornServer, tool: str) -> list[tuple[str, str]]:
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    return [(e["subject"], e["outcome"]) for e in lines if e.get("event") == "tool_call" and e["tool"] == tool]


def test_the_sdk_registers_where_keycloak_says_and_is_refused(keycloak: LocalKeycloak,
                                                              server: GunicornServer) -> None:
    seen = Session()

    with pytest.raises(ExceptionGroup) as raised:
        asyncio.run(_connect(server, keycloak, seen, []))

    assert raised.group_contains(OAuthRegistrationError, match="403.*rejected request to client-registration service")
    registration = keycloak.discovery()["registration_endpoint"]
    assert ("POST", registration, 403) in seen.sent
    assert not [s for s in seen.sent if s[1] == f"{server.url}/register"] and seen.authorization_urls == []


def test_alice_logs_in_with_pkce_through_the_sdk_and_calls_a_tool(keycloak: LocalKeycloak,
                                                                   server: GunicornServer) -> None:
    seen = Session(MemoryTokenStorage(client_info=_registered_at_the_proxy(server)))

    asyncio.run(_connect(server, keycloak, seen, [("cluster_list", {"namespace": "default"})]))

    [authorization_url] = seen.authorization_urls
    sent = parse_qs(urlsplit(authorization_url).query)
    claims = _claims(seen)
    assert seen.storage.client_info.client_id == LOGIN_CLIENT  # handed out by the static proxy
    assert authorization_url.startswith(keycloak.discovery()["authorization_endpoint"] + "?")
    assert (sent["client_id"], sent["code_challenge_method"], sent["redirect_uri"]) == (
        [LOGIN_CLIENT], ["S256"], [REDIRECT_URI])
    assert len(sent["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert ("POST", keycloak.token_endpoint, 200) in seen.sent  # the code exchange, by the SDK
    assert not [s for s in seen.sent if "regist" in s[1]]  # the SDK registered nowhere itself
    assert (claims["iss"], claims["azp"], claims["preferred_username"]) == (keycloak.issuer, LOGIN_CLIENT, "alice")
    assert AUDIENCE in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert "dba" in claims["groups"] and "mcp:read" in claims["scope"].split()
    assert seen.storage.tokens is not None and seen.storage.tokens.refresh_token  # offline_access granted
    # mcp:read only: the read tools, none that write or delete.
    assert "cluster_list" in seen.tools[0] and not {"cluster_create", "cluster_delete"} & set(seen.tools[0])
    [listed] = seen.results
    assert listed.is_error is False, listed.content
    assert isinstance(listed.structured_content["clusters"], list)
    assert (claims["sub"], "ok") in _tool_calls(server, "cluster_list")


def test_a_write_tool_makes_the_sdk_step_up_to_the_write_scope(keycloak: LocalKeycloak,
                                                               server: GunicornServer) -> None:
    seen = Session(MemoryTokenStorage(client_info=_registered_at_the_proxy(server)))

    asyncio.run(_connect(server, keycloak, seen, [("cluster_create", DRY_RUN_CREATE)]))

    # Two logins: the first with the default scope, the second after the 403 insufficient_scope.
    first, second = (parse_qs(urlsplit(url).query)["scope"][0].split() for url in seen.authorization_urls)
    assert "mcp:write" not in first and "mcp:write" in second
    assert ("POST", server.mcp_url, 403) in seen.sent
    claims = _claims(seen)
    assert "mcp:write" in claims["scope"].split() and claims["preferred_username"] == "alice"
    assert "cluster_create" not in seen.tools[0] and "cluster_create" in seen.tools[1]
    [created] = seen.results
    assert created.is_error is False, created.content
    assert created.structured_content["dry_run"] is True
    assert _tool_calls(server, "cluster_create") == [(claims["sub"], "insufficient_scope"), (claims["sub"], "ok")]
