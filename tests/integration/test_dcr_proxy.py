"""The registration proxy's rules, one by one, through the real app against the real local IdP:
every bad registration with its exact status and error, both backends' answers and failures,
the rate limit, the audit log, CORS and the metadata that advertises /register."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from app import create_app
from app.settings import Settings
from devenv.idp import LocalIdP
from tests.integration.conftest import IDP_RESOURCE
from tests.support.blackhole import BlackholeServer
from tests.support.processes import free_port

LOOPBACK = "http://127.0.0.1:53682/callback"
STATIC = {"DCR_PROXY_BACKEND": "static", "DCR_STATIC_CLIENT_ID": "mcp-public",
          "DCR_STATIC_REDIRECT_URIS": "http://127.0.0.1:*/callback, https://app.example.test/oauth/callback, "
                                      "com.example.app:/callback",
          "DCR_REDIRECT_URI_PATTERNS": "http://127.0.0.1:*/*, http://localhost:*/*, https://app.example.test/*, "
                                       "com.example.app:/*"}
INITIAL_ACCESS_TOKEN = f"iat-{secrets.token_hex(16)}"


def _client(idp: LocalIdP, **env: str) -> FlaskClient:
    base = {"OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": IDP_RESOURCE, "LOG_LEVEL": "INFO",
            "DCR_RATE_LIMIT": "1000/minute"}
    return create_app(Settings.from_env({**base, **env})).test_client()


def _register(client: FlaskClient, body: Any = None, **kwargs: Any):
    return client.post("/register", json={"redirect_uris": [LOOPBACK]} if body is None else body, **kwargs)


@pytest.fixture(scope="module")
def static_client(idp: LocalIdP) -> FlaskClient:
    """The static backend against the session IdP (no DCR, no refresh tokens)."""
    return _client(idp, **STATIC)


@pytest.fixture(scope="module")
def upstream_idp(idp_factory: Callable[..., LocalIdP]) -> LocalIdP:
    """Registration behind an initial access token, advertised in discovery (as Keycloak does)."""
    return idp_factory([IDP_RESOURCE], registration=True, initial_access_token=INITIAL_ACCESS_TOKEN,
                       interactive=True)


# --- every rule, with its exact answer --------------------------------------------------

BAD_REGISTRATIONS = [
    # (id, body, expected status, error, a fragment of error_description)
    ("not-an-object", ["redirect_uris"], 400, "invalid_client_metadata", "must be a JSON object"),
    ("no-redirect-uris", {"client_name": "x"}, 400, "invalid_redirect_uri", "redirect_uris is required"),
    ("empty-redirect-uris", {"redirect_uris": []}, 400, "invalid_redirect_uri", "redirect_uris is required"),
    ("redirect-uris-not-a-list", {"redirect_uris": LOOPBACK}, 400, "invalid_redirect_uri",
     "redirect_uris is required"),
    ("redirect-uri-not-a-string", {"redirect_uris": [42]}, 400, "invalid_redirect_uri", "must be a string"),
    ("too-many-redirect-uris", {"redirect_uris": [f"http://127.0.0.1:{p}/callback" for p in range(1, 12)]}, 400,
     "invalid_redirect_uri", "At most 10 redirect URIs"),
    ("too-long", {"redirect_uris": ["http://127.0.0.1:1/callback?" + "x" * 2000]}, 400, "invalid_redirect_uri",
     "longer than 2000 characters"),
    ("relative", {"redirect_uris": ["/callback"]}, 400, "invalid_redirect_uri", "must be an absolute URI"),
    ("spaces", {"redirect_uris": ["http://127.0.0.1:1/call back"]}, 400, "invalid_redirect_uri",
     "printable ASCII without spaces"),
    ("http-not-loopback", {"redirect_uris": ["http://app.example.test/oauth/callback"]}, 400, "invalid_redirect_uri",
     "uses http on a host that is not loopback"),
    ("http-loopback-lookalike", {"redirect_uris": ["http://127.0.0.1.example.test/callback"]}, 400,
     "invalid_redirect_uri", "uses http on a host that is not loopback"),
    ("fragment", {"redirect_uris": [LOOPBACK + "#frag"]}, 400, "invalid_redirect_uri", "must not contain a fragment"),
    ("userinfo", {"redirect_uris": ["https://user@app.example.test/oauth/callback"]}, 400, "invalid_redirect_uri",
     "must not contain user information"),
    ("dot-segments", {"redirect_uris": ["https://app.example.test/oauth/../open-redirect"]}, 400,
     "invalid_redirect_uri", "'.' or '..' path segments"),
    ("encoded-dot-segments", {"redirect_uris": ["https://app.example.test/oauth/%2e%2e/x"]}, 400,
     "invalid_redirect_uri", "'.' or '..' path segments"),
    ("javascript-scheme", {"redirect_uris": ["javascript:alert(1)"]}, 400, "invalid_redirect_uri",
     "private-use scheme named like a reversed domain"),
    ("custom-scheme-with-authority", {"redirect_uris": ["myapp://callback"]}, 400, "invalid_redirect_uri",
     "private-use scheme named like a reversed domain"),
    ("https-outside-the-allowlist", {"redirect_uris": ["https://evil.example.test/oauth/callback"]}, 400,
     "invalid_redirect_uri", "is not allowed here (DCR_REDIRECT_URI_PATTERNS allows"),
    ("private-scheme-outside-the-allowlist", {"redirect_uris": ["com.evil.app:/callback"]}, 400,
     "invalid_redirect_uri", "is not allowed here"),
    ("not-allowed-by-the-static-client", {"redirect_uris": ["http://127.0.0.1:53682/other"]}, 400,
     "invalid_redirect_uri", "is not registered for the pre-registered client 'mcp-public'; it allows"),
    ("client-secret-basic", {"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "client_secret_basic"}, 400,
     "invalid_client_metadata", "only public clients are registered here"),
    ("private-key-jwt", {"redirect_uris": [LOOPBACK], "token_endpoint_auth_method": "private_key_jwt"}, 400,
     "invalid_client_metadata", "only public clients are registered here"),
    ("client-credentials", {"redirect_uris": [LOOPBACK], "grant_types": ["client_credentials"]}, 400,
     "invalid_client_metadata", "Grant type 'client_credentials' cannot be registered here"),
    ("implicit", {"redirect_uris": [LOOPBACK], "grant_types": ["authorization_code", "implicit"]}, 400,
     "invalid_client_metadata", "Grant type 'implicit' cannot be registered here"),
    ("refresh-token-alone", {"redirect_uris": [LOOPBACK], "grant_types": ["refresh_token"]}, 400,
     "invalid_client_metadata", "grant_types must include authorization_code"),
    ("grant-the-idp-lacks", {"redirect_uris": [LOOPBACK], "grant_types": ["authorization_code", "refresh_token"]},
     400, "invalid_client_metadata", "The identity provider does not support grant type 'refresh_token'"),
    ("grant-types-not-strings", {"redirect_uris": [LOOPBACK], "grant_types": "authorization_code"}, 400,
     "invalid_client_metadata", "grant_types must be an array of strings"),
    ("token-response-type", {"redirect_uris": [LOOPBACK], "response_types": ["code", "token"]}, 400,
     "invalid_client_metadata", "response_types must be [\"code\"]"),
    ("software-statement", {"redirect_uris": [LOOPBACK], "software_statement": "eyJ.x.y"}, 400,
     "invalid_software_statement", "Software statements are not accepted here"),
    ("client-name-not-a-string", {"redirect_uris": [LOOPBACK], "client_name": ["x"]}, 400,
     "invalid_client_metadata", "client_name must be a printable string"),
    ("client-name-too-long", {"redirect_uris": [LOOPBACK], "client_name": "x" * 201}, 400,
     "invalid_client_metadata", "client_name must be a printable string of 1 to 200"),
    ("client-name-multiline", {"redirect_uris": [LOOPBACK], "client_name": "Trusted\nApp"}, 400,
     "invalid_client_metadata", "client_name must be a printable string"),
    ("logo-over-http", {"redirect_uris": [LOOPBACK], "logo_uri": "http://app.example.test/logo.png"}, 400,
     "invalid_client_metadata", "logo_uri must be an https URL"),
    ("client-uri-not-a-url", {"redirect_uris": [LOOPBACK], "client_uri": "javascript:alert(1)"}, 400,
     "invalid_client_metadata", "client_uri must be an https URL"),
    ("bad-scope", {"redirect_uris": [LOOPBACK], "scope": 'open"id'}, 400, "invalid_client_metadata",
     "scope must be a space-separated list"),
    ("bad-application-type", {"redirect_uris": [LOOPBACK], "application_type": "desktop"}, 400,
     "invalid_client_metadata", "application_type must be \"web\" or \"native\""),
    ("too-many-contacts", {"redirect_uris": [LOOPBACK], "contacts": [f"a{i}@example.test" for i in range(6)]}, 400,
     "invalid_client_metadata", "contacts must hold at most 5"),
]


@pytest.mark.parametrize(("body", "status", "error", "fragment"), [case[1:] for case in BAD_REGISTRATIONS],
                         ids=[case[0] for case in BAD_REGISTRATIONS])
def test_each_bad_registration_gets_its_exact_error(static_client: FlaskClient, body: Any, status: int, error: str,
                                                    fragment: str) -> None:
    response = _register(static_client, body)

    assert response.status_code == status
    assert response.get_json()["error"] == error
    assert fragment in response.get_json()["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("kwargs", "status", "fragment"),
    [
        ({"data": "redirect_uris=x", "content_type": "application/x-www-form-urlencoded"}, 415,
         "Content-Type must be application/json (got 'application/x-www-form-urlencoded')"),
        ({"data": "{}"}, 415, "Content-Type must be application/json (got 'none')"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "The body is not valid JSON"),
        ({"data": json.dumps({"redirect_uris": [LOOPBACK], "client_uri": "https://x.test/" + "a" * 17000}),
          "content_type": "application/json"}, 413, "exceeds 16384 bytes"),
    ],
    ids=["form-encoded", "no-content-type", "not-json", "too-large"],
)
def test_bodies_that_are_not_a_json_registration_are_refused(static_client: FlaskClient, kwargs: dict[str, Any],
                                                             status: int, fragment: str) -> None:
    response = static_client.post("/register", **kwargs)

    assert response.status_code == status
    assert response.get_json()["error"] == "invalid_client_metadata"
    assert fragment in response.get_json()["error_description"]


def test_only_post_and_preflight_are_served(static_client: FlaskClient) -> None:
    response = static_client.get("/register")

    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


# --- the static backend -------------------------------------------------------------------


def test_static_backend_hands_out_the_configured_public_client_and_no_secret(static_client: FlaskClient) -> None:
    response = _register(static_client, {
        "redirect_uris": [LOOPBACK, "https://app.example.test/oauth/callback", "com.example.app:/callback"],
        "client_name": "Claude", "scope": "openid mcp:tools", "application_type": "native",
        "logo_uri": "https://app.example.test/logo.png", "jwks_uri": "https://app.example.test/jwks",
        "made_up_member": True,
    })
    body = response.get_json()

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    assert isinstance(body.pop("client_id_issued_at"), int)
    assert body == {
        "client_id": "mcp-public",
        "redirect_uris": [LOOPBACK, "https://app.example.test/oauth/callback", "com.example.app:/callback"],
        # Omitted auth method and grants: RFC 7591 defaults, with "none" substituted (and said so).
        "grant_types": ["authorization_code"], "response_types": ["code"], "token_endpoint_auth_method": "none",
        "client_name": "Claude", "scope": "openid mcp:tools", "application_type": "native",
        "logo_uri": "https://app.example.test/logo.png",
    }  # no client_secret, and unknown or irrelevant members (jwks_uri, made_up_member) are dropped


def test_registration_needs_no_token_while_mcp_does(static_client: FlaskClient) -> None:
    registered = _register(static_client)
    mcp = static_client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    assert registered.status_code == 201
    assert mcp.status_code == 401


def test_without_a_backend_there_is_no_register_endpoint(idp: LocalIdP) -> None:
    response = _register(_client(idp))

    assert response.status_code == 404


def test_discovery_down_is_503_unless_the_provider_has_no_discovery(idp_factory: Callable[..., LocalIdP]) -> None:
    provider = idp_factory([IDP_RESOURCE])
    client = _client(provider, **STATIC)
    without_discovery = _client(provider, OIDC_JWKS_URI=provider.jwks_uri, **STATIC)
    provider.stop()
    try:
        down = _register(client)
        jwks_only = _register(without_discovery)
    finally:
        provider.start()

    assert (down.status_code, down.headers["Retry-After"], down.get_json()["error"]) == (
        503, "30", "temporarily_unavailable")
    assert "Cannot read the identity provider's metadata" in down.get_json()["error_description"]
    assert jwks_only.status_code == 201  # capabilities unknown: the proxy's own rules still apply


# --- the upstream backend -----------------------------------------------------------------


def test_upstream_backend_forwards_with_the_token_to_the_advertised_endpoint(upstream_idp: LocalIdP) -> None:
    client = _client(upstream_idp, DCR_PROXY_BACKEND="upstream", DCR_UPSTREAM_INITIAL_ACCESS_TOKEN=INITIAL_ACCESS_TOKEN)

    response = _register(client, {"redirect_uris": [LOOPBACK], "client_name": "Inspector",
                                  "grant_types": ["authorization_code", "refresh_token"], "made_up_member": 1})
    body = response.get_json()
    # The registration belongs to the client: its RFC 7592 credentials work at the IdP.
    managed = requests.get(body["registration_client_uri"], timeout=10,
                           headers={"Authorization": f"Bearer {body['registration_access_token']}"})

    assert upstream_idp.discovery()["registration_endpoint"] == upstream_idp.registration_endpoint
    assert response.status_code == 201
    assert body["client_id"] not in ("mcp-public", "mcp-client") and "client_secret" not in body
    assert (body["token_endpoint_auth_method"], body["redirect_uris"], body["client_name"]) == (
        "none", [LOOPBACK], "Inspector")
    assert "made_up_member" not in body  # never forwarded
    assert managed.status_code == 200 and managed.json()["client_id"] == body["client_id"]


def test_upstream_refusals_keep_their_rfc7591_code_and_description(upstream_idp: LocalIdP) -> None:
    client = _client(upstream_idp, DCR_PROXY_BACKEND="upstream", DCR_UPSTREAM_INITIAL_ACCESS_TOKEN=INITIAL_ACCESS_TOKEN)

    # Valid for the proxy; oidc-provider wants e-mail addresses as contacts.
    response = _register(client, {"redirect_uris": [LOOPBACK], "contacts": ["not an e-mail"]})

    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_client_metadata",
                                   "error_description": "contacts can only contain email addresses"}


def test_a_token_the_idp_refuses_is_a_502_that_never_shows_the_token(
    upstream_idp: LocalIdP, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = f"wrong-{secrets.token_hex(8)}"
    client = _client(upstream_idp, DCR_PROXY_BACKEND="upstream", DCR_UPSTREAM_INITIAL_ACCESS_TOKEN=wrong)

    with caplog.at_level(logging.INFO):
        response = _register(client)

    assert response.status_code == 502
    assert response.get_json() == {"error": "server_error", "error_description": (
        "The identity provider refused this proxy's credentials (HTTP 401): the operator must renew its initial "
        "access token")}
    assert "renew DCR_UPSTREAM_INITIAL_ACCESS_TOKEN" in caplog.text
    assert wrong not in caplog.text and wrong not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("where", "status", "error", "fragment"),
    [
        ("closed-port", 503, "temporarily_unavailable", "Cannot reach the identity provider's registration endpoint"),
        ("not-found", 502, "server_error", "registration endpoint answered HTTP 404"),
        ("black-hole", 504, "temporarily_unavailable", "did not answer within 0.5s"),
    ],
)
def test_upstream_failures_become_gateway_errors_without_upstream_bodies(
    upstream_idp: LocalIdP, where: str, status: int, error: str, fragment: str
) -> None:
    with BlackholeServer() as hole:
        url = {"closed-port": f"http://127.0.0.1:{free_port()}/reg", "not-found": f"{upstream_idp.issuer}/nowhere",
               "black-hole": f"http://127.0.0.1:{hole.port}/reg"}[where]
        client = _client(upstream_idp, DCR_PROXY_BACKEND="upstream", OIDC_HTTP_TIMEOUT_SECONDS="0.5",
                         DCR_UPSTREAM_INITIAL_ACCESS_TOKEN=INITIAL_ACCESS_TOKEN, DCR_UPSTREAM_REGISTRATION_URL=url)
        response = _register(client)

    assert response.status_code == status
    assert response.get_json()["error"] == error
    assert fragment in response.get_json()["error_description"]


def test_upstream_without_any_registration_endpoint_says_which_setting_is_missing(idp: LocalIdP) -> None:
    client = _client(idp, DCR_PROXY_BACKEND="upstream", DCR_UPSTREAM_ANONYMOUS="true")

    response = _register(client)

    assert response.status_code == 502
    assert "set DCR_UPSTREAM_REGISTRATION_URL" in response.get_json()["error_description"]


# --- rate limit, audit, metrics, CORS, metadata -------------------------------------------


def test_registrations_are_limited_per_client_address(idp: LocalIdP) -> None:
    client = _client(idp, **{**STATIC, "DCR_RATE_LIMIT": "3/minute"})

    statuses = [_register(client).status_code for _ in range(3)]
    preflight = client.options("/register", headers={"Origin": "http://localhost:6274"})
    limited = _register(client, {"redirect_uris": ["http://evil.example.test/"]})  # counted, good or bad
    elsewhere = _register(client, environ_base={"REMOTE_ADDR": "127.0.0.9"})

    assert statuses == [201, 201, 201]
    assert preflight.status_code == 204  # preflights are not counted
    assert limited.status_code == 429
    assert limited.get_json() == {"error": "too_many_requests",
                                  "error_description": "Too many registration requests from this address; retry later"}
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 201


def test_every_registration_is_audited_without_secrets(upstream_idp: LocalIdP, caplog: pytest.LogCaptureFixture) -> None:
    client = _client(upstream_idp, DCR_PROXY_BACKEND="upstream", DCR_UPSTREAM_INITIAL_ACCESS_TOKEN=INITIAL_ACCESS_TOKEN)

    with caplog.at_level(logging.INFO, logger="cnpg_mcp.audit"):
        registered = _register(client, {"redirect_uris": [LOOPBACK], "client_name": "Audited"}).get_json()
        _register(client, {"redirect_uris": ["http://evil.example.test/cb"], "client_name": "Refused"})
    records = [r for r in caplog.records if r.name == "cnpg_mcp.audit" and r.event == "client_registration"]

    assert [(r.outcome, r.client_name, r.redirect_uris, r.backend, r.client_addr) for r in records] == [
        ("registered", "Audited", [LOOPBACK], "upstream", "127.0.0.1"),
        ("invalid_redirect_uri", "Refused", ["http://evil.example.test/cb"], "upstream", "127.0.0.1"),
    ]
    assert records[0].client_id == registered["client_id"] and records[0].levelname == "INFO"
    assert records[1].levelname == "WARNING" and records[1].status == 400
    for secret in (INITIAL_ACCESS_TOKEN, registered["registration_access_token"]):
        assert secret not in caplog.text


def test_the_registration_counter_counts_outcomes(static_client: FlaskClient) -> None:
    def count(outcome: str) -> float:
        return REGISTRY.get_sample_value("mcp_client_registrations_total",
                                         {"backend": "static", "outcome": outcome}) or 0.0

    before = (count("registered"), count("invalid_redirect_uri"))
    _register(static_client)
    _register(static_client, {"redirect_uris": ["http://evil.example.test/"]})

    assert (count("registered"), count("invalid_redirect_uri")) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize("origin", ["http://localhost:6274", "http://127.0.0.1:5173", "https://inspector.example.test"])
def test_allowed_browser_origins_get_cors_headers(idp: LocalIdP, origin: str) -> None:
    client = _client(idp, MCP_ALLOWED_ORIGINS="https://inspector.example.test", **STATIC)

    preflight = client.options("/register", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "content-type"})
    registered = _register(client, headers={"Origin": origin})

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert preflight.headers["Access-Control-Allow-Methods"] == "POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert registered.status_code == 201
    assert registered.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in registered.headers["Vary"]


def test_other_origins_are_refused_like_on_mcp(static_client: FlaskClient) -> None:
    preflight = static_client.options("/register", headers={"Origin": "https://evil.example.test"})
    registered = _register(static_client, headers={"Origin": "https://evil.example.test"})

    for response in (preflight, registered):
        assert response.status_code == 403
        assert response.get_json() == {"error": "access_denied",
                                       "error_description": "Origin not allowed (see MCP_ALLOWED_ORIGINS)"}
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://localhost/register"),  # the test client's host: derived from the request, like the PRM
        ({"MCP_PUBLIC_URL": "https://mcp.example.test/mcp"}, "https://mcp.example.test/register"),
        ({"MCP_PUBLIC_URL": "https://gw.example.test/team-a/mcp"}, "https://gw.example.test/team-a/register"),
        ({"DCR_PROXY_URL": "https://dcr.example.test/register"}, "https://dcr.example.test/register"),
    ],
)
def test_metadata_advertises_the_proxy_and_leaves_the_protected_resource_metadata_alone(
    idp: LocalIdP, env: dict[str, str], expected: str
) -> None:
    with_proxy = _client(idp, **STATIC, **env)
    without = _client(idp, **{k: v for k, v in env.items() if k != "DCR_PROXY_URL"})

    metadata = with_proxy.get("/.well-known/oauth-authorization-server").get_json()

    assert metadata["registration_endpoint"] == expected
    assert metadata["issuer"] == idp.issuer  # still the IdP's metadata otherwise
    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"):
        assert with_proxy.get(path).get_json() == without.get(path).get_json()
