"""The official-SDK peer: the `mcp` Python SDK's high-level `MCPServer`, streamable HTTP, stateless, JSON answers.

What a developer would write with the SDK alone: four small typed tools (one reads a CloudNativePG
Cluster through the `kubernetes` client, three are trivial) and a bearer-token verifier built on
PyJWT's `PyJWKClient` against the OpenID Provider (RS256; issuer, audience and expiry checked).
It runs under uvicorn (2 workers, uvloop, httptools) in its own virtualenv built from
sdk-requirements.txt (bench/peers/cache.py), and is imported by no module of app/ or bench/:
uvicorn loads it by file (`--app-dir bench/peers sdk_server:app`).

Settings (environment): SDK_PEER_ISSUER (the IdP's issuer URL), SDK_PEER_AUDIENCE (the audience,
i.e. the resource indicator tokens are issued for), KUBECONFIG (the cluster to read).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

import jwt
import kubernetes
from mcp.server import MCPServer
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

ISSUER = os.environ["SDK_PEER_ISSUER"]
AUDIENCE = os.environ["SDK_PEER_AUDIENCE"]


class JwksTokenVerifier:
    """Access tokens signed by the IdP's current RS256 key (from its JWKS, cached by PyJWKClient)."""

    def __init__(self, issuer: str, audience: str) -> None:
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=10) as answer:
            discovery = json.load(answer)
        self._issuer, self._audience = issuer, audience
        self._jwks = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=True, lifespan=300, timeout=10)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=self._issuer, audience=self._audience,
                                options={"require": ["exp", "iss", "aud"]})
        except (jwt.PyJWTError, jwt.PyJWKClientError):
            return None
        return AccessToken(token=token, client_id=str(claims.get("client_id") or claims.get("azp") or ""),
                           scopes=str(claims.get("scope", "")).split(), expires_at=int(claims["exp"]),
                           resource=self._audience, subject=claims.get("sub"), claims={"iss": claims["iss"]})


mcp = MCPServer(
    "sdk-peer",
    token_verifier=JwksTokenVerifier(ISSUER, AUDIENCE),
    auth=AuthSettings(issuer_url=ISSUER, resource_server_url=AUDIENCE, validate_token_resource=True),
    log_level="WARNING",
)

kubernetes.config.load_kube_config()
_custom = kubernetes.client.CustomObjectsApi(kubernetes.client.ApiClient())


class Sum(BaseModel):
    total: int


@mcp.tool()
def cluster_get(namespace: str, name: str) -> dict[str, Any]:
    """One CloudNativePG Cluster (postgresql.cnpg.io/v1) as the API returns it."""
    return _custom.get_namespaced_custom_object("postgresql.cnpg.io", "v1", namespace, "clusters", name)


@mcp.tool()
async def echo(text: str) -> str:
    """The text, unchanged."""
    return text


@mcp.tool()
async def add(a: int, b: int) -> Sum:
    """The sum of two integers."""
    return Sum(total=a + b)


@mcp.tool()
async def server_time() -> float:
    """Seconds since the epoch on the server."""
    return time.time()


@mcp.custom_route("/health", methods=["GET"])
async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = mcp.streamable_http_app(stateless_http=True, json_response=True)
