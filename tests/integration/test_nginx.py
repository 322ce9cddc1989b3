"""The shipped nginx site config (deploy/nginx/cnpg-mcp.conf) in front of a real gunicorn.

Real nginx (devenv/nginx.py renders the shipped file, substituting only its placeholders),
real gunicorn with TRUSTED_PROXY_HOPS=1, a real OpenID Provider. Two clients "behind" nginx are
two loopback source addresses (Linux routes all of 127.0.0.0/8 to lo): nginx sees a different
$remote_addr for each, which is what the app must key its failed-auth limit on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from devenv.idp import LocalIdP
from devenv.nginx import LocalNginx
from tests.integration.conftest import IDP_RESOURCE
from tests.support.processes import GunicornServer

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
ACCEPT = {"Accept": "application/json, text/event-stream"}
FAILURES_ALLOWED = 3
REGISTRATIONS_ALLOWED = 2


class _SourceAddressAdapter(HTTPAdapter):
    """Connections from a chosen local address, so nginx sees a distinct client."""

    def __init__(self, source: str) -> None:
        self._source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kwargs)


class Client:
    def __init__(self, proxy: LocalNginx, source: str) -> None:
        self.proxy = proxy
        self.session = requests.Session()
        # Per request, not session.verify: requests lets REQUESTS_CA_BUNDLE override the session's.
        self.verify = str(proxy.ca_path)
        self.session.mount("https://", _SourceAddressAdapter(source))

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(f"{self.proxy.url}{path}", verify=self.verify, timeout=10, **kwargs)

    def register(self) -> requests.Response:
        return self.session.post(f"{self.proxy.url}/register", json={"redirect_uris": ["http://127.0.0.1:5000/callback"]},
                                 verify=self.verify, timeout=10)

    def post_mcp(self, token: str | None, headers: dict[str, str] | None = None) -> requests.Response:
        merged = {**ACCEPT, **(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        return self.session.post(f"{self.proxy.url}/mcp", json=LIST, headers=merged, verify=self.verify, timeout=10)


@pytest.fixture(scope="module")
def proxied(idp: LocalIdP) -> Iterator[tuple[GunicornServer, LocalNginx]]:
    # One worker: the memory:// failed-auth counters are per worker, so one worker counts them all.
    with GunicornServer(
        workers=1,
        OIDC_ISSUER=idp.issuer,
        OIDC_AUDIENCE=IDP_RESOURCE,
        TRUSTED_PROXY_HOPS="1",
        AUTH_FAILURE_LIMIT=f"{FAILURES_ALLOWED}/minute",
        MCP_ALLOWED_HOSTS="localhost",
        DCR_PROXY_BACKEND="static",
        DCR_STATIC_CLIENT_ID="mcp-public",
        DCR_STATIC_REDIRECT_URIS="http://127.0.0.1:*/callback",
        DCR_RATE_LIMIT=f"{REGISTRATIONS_ALLOWED}/minute",
    ) as gunicorn:
        with LocalNginx(upstream=f"127.0.0.1:{gunicorn.port}") as nginx:
            yield gunicorn, nginx


@pytest.fixture(scope="module")
def nginx(proxied: tuple[GunicornServer, LocalNginx]) -> LocalNginx:
    return proxied[1]


def test_mcp_call_with_a_real_token_works_through_nginx(nginx: LocalNginx, idp: LocalIdP) -> None:
    token = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    response = Client(nginx, "127.0.0.1").post_mcp(token)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["tools"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_health_is_passed_through_and_other_paths_are_not(nginx: LocalNginx) -> None:
    client = Client(nginx, "127.0.0.1")
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code in (200, 503)  # answered by the app, whatever its state
    assert client.get("/admin").status_code == 404


def test_protected_resource_metadata_names_the_public_https_url(nginx: LocalNginx) -> None:
    metadata = Client(nginx, "127.0.0.1").get("/.well-known/oauth-protected-resource/mcp")
    assert metadata.status_code == 200, metadata.text
    assert metadata.json()["resource"] == f"https://localhost:{nginx.port}/mcp"


def test_challenge_points_at_https_metadata(nginx: LocalNginx) -> None:
    response = Client(nginx, "127.0.0.5").post_mcp(None)
    assert response.status_code == 401
    expected = f'resource_metadata="https://localhost:{nginx.port}/.well-known/oauth-protected-resource/mcp"'
    assert expected in response.headers["WWW-Authenticate"]


def test_client_sent_forwarded_host_port_and_proto_do_not_change_the_public_url(nginx: LocalNginx) -> None:
    spoofed = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "8443", "X-Forwarded-Proto": "http"}
    metadata = Client(nginx, "127.0.0.1").get("/.well-known/oauth-protected-resource/mcp", headers=spoofed)
    assert metadata.json()["resource"] == f"https://localhost:{nginx.port}/mcp"


def test_failed_auth_limit_is_per_forwarded_client_address(nginx: LocalNginx) -> None:
    client_a, client_b = Client(nginx, "127.0.0.2"), Client(nginx, "127.0.0.3")
    statuses = [client_a.post_mcp("not-a-jwt").status_code for _ in range(FAILURES_ALLOWED + 1)]
    assert statuses == [401] * FAILURES_ALLOWED + [429]
    assert client_b.post_mcp("not-a-jwt").status_code == 401
    assert client_a.post_mcp("not-a-jwt").status_code == 429


def test_client_sent_x_forwarded_for_is_ignored(nginx: LocalNginx) -> None:
    client = Client(nginx, "127.0.0.4")
    statuses = [
        client.post_mcp("not-a-jwt", headers={"X-Forwarded-For": f"203.0.113.{77 + n}"}).status_code
        for n in range(FAILURES_ALLOWED + 1)
    ]
    assert statuses == [401] * FAILURES_ALLOWED + [429]
    # Nor can it escape its limit by claiming to be a fresh client.
    escaped = client.post_mcp("not-a-jwt", headers={"X-Forwarded-For": "198.51.100.9"})
    assert escaped.status_code == 429


def test_body_limit_matches_the_app_default(nginx: LocalNginx) -> None:
    client = Client(nginx, "127.0.0.1")
    too_big = client.session.post(
        f"{nginx.url}/mcp", data=b"x" * (1048576 + 1), headers={**ACCEPT, "Content-Type": "application/json"},
        verify=client.verify, timeout=10,
    )
    assert too_big.status_code == 413
    assert too_big.headers["Server"].startswith("nginx")  # refused before reaching gunicorn


def test_registration_proxy_is_reached_through_nginx_and_advertised_with_the_public_url(nginx: LocalNginx) -> None:
    client = Client(nginx, "127.0.0.3")

    registered = client.register()
    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert registered.status_code == 201, registered.text
    assert registered.json()["client_id"] == "mcp-public"
    assert metadata["registration_endpoint"] == f"https://localhost:{nginx.port}/register"


def test_registration_limit_is_per_forwarded_client_address(nginx: LocalNginx) -> None:
    first, second = Client(nginx, "127.0.0.4"), Client(nginx, "127.0.0.5")

    statuses = [first.register().status_code for _ in range(REGISTRATIONS_ALLOWED + 1)]
    other = second.register()

    assert statuses == [201] * REGISTRATIONS_ALLOWED + [429]
    assert other.status_code == 201
