"""Authentication end to end against the real local OpenID provider: metadata, challenges,
scopes, key rotation, provider outages, the verified-token cache and the per-caller limits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from devenv.idp import LocalIdP
from tests.integration.conftest import IDP_RESOURCE

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def _client(idp: LocalIdP, **env: str) -> FlaskClient:
    base = {"OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": IDP_RESOURCE, "LOG_LEVEL": "WARNING"}
    return create_app(Settings.from_env({**base, **env})).test_client()


def _post(client: FlaskClient, token: str | None, body: dict[str, Any] = LIST, headers: dict[str, str] | None = None,
          **kwargs: Any):
    merged = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.post("/mcp", json=body, headers=merged, **kwargs)


# --- metadata -----------------------------------------------------------------


def test_authorization_server_metadata_comes_from_the_providers_discovery(idp: LocalIdP) -> None:
    discovery = idp.discovery()
    metadata = _client(idp, OIDC_SCOPE="openid cnpg:read").get("/.well-known/oauth-authorization-server").get_json()

    for field in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
                  "grant_types_supported", "token_endpoint_auth_methods_supported",
                  "code_challenge_methods_supported"):
        assert metadata[field] == discovery[field], field
    assert metadata["scopes_supported"][:2] == ["openid", "cnpg:read"]
    assert len(metadata["scopes_supported"]) == len(set(metadata["scopes_supported"]))
    assert "registration_endpoint" not in metadata  # the provider offers none and no proxy is set


def test_dcr_proxy_url_is_what_gets_advertised_for_registration(idp: LocalIdP) -> None:
    proxy = "https://dcr.example.test/register"
    metadata = _client(idp, DCR_PROXY_URL=proxy).get("/.well-known/oauth-authorization-server").get_json()

    assert "registration_endpoint" not in idp.discovery()
    assert metadata["registration_endpoint"] == proxy


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"])
def test_protected_resource_metadata_names_the_public_url_and_the_issuer(idp: LocalIdP, path: str) -> None:
    public = "https://mcp.example.test/mcp"
    metadata = _client(idp, MCP_PUBLIC_URL=public, OIDC_SCOPE="openid cnpg:read").get(path).get_json()

    assert metadata == {
        "resource": public,
        "authorization_servers": [idp.issuer],
        "scopes_supported": ["openid", "cnpg:read"],
        "bearer_methods_supported": ["header"],
        "resource_name": "CloudNativePG MCP Server",
    }


def test_discovery_failure_is_503_with_the_guides_message(idp_factory: Callable[..., LocalIdP]) -> None:
    down = idp_factory([IDP_RESOURCE])
    client = _client(down)
    token = down.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    down.stop()

    metadata = client.get("/.well-known/oauth-authorization-server")
    call = _post(client, token)

    assert metadata.status_code == 503 and call.status_code == 503
    assert metadata.get_json()["error_description"].startswith("Failed to discover JWKS URI from ")
    assert call.get_json()["error"] == "temporarily_unavailable" and call.headers["Retry-After"] == "30"


def test_an_issuer_that_does_not_match_discovery_is_refused(idp: LocalIdP) -> None:
    client = _client(idp, OIDC_ISSUER=idp.issuer + "/")  # differs only by the trailing slash
    response = client.get("/.well-known/oauth-authorization-server")

    assert response.status_code == 503
    assert "names issuer" in response.get_json()["error_description"]


# --- challenges and scopes ------------------------------------------------------


def test_no_token_is_a_401_challenge_pointing_at_the_resource_metadata(idp: LocalIdP) -> None:
    response = _post(_client(idp, MCP_PUBLIC_URL="https://mcp.example.test/mcp"), None)

    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"' in challenge
    assert 'scope="openid"' in challenge and 'error_description="Missing Authorization header"' in challenge
    assert response.get_json() == {"error": "invalid_token", "error_description": "Missing Authorization header"}


@pytest.mark.parametrize("client_id", ["mcp-client", "mcp-client-es"])
def test_rs256_and_es256_tokens_from_the_provider_are_accepted(idp: LocalIdP, client_id: str) -> None:
    token = idp.token(client_id, scope="openid", resource=IDP_RESOURCE)

    response = _post(_client(idp), token)

    assert response.status_code == 200
    assert [t["name"] for t in response.get_json()["result"]["tools"]][0] == "cluster_list"


def test_every_required_scope_is_needed_and_the_403_names_them_all(idp: LocalIdP) -> None:
    client = _client(idp, OIDC_SCOPE="openid cnpg:read")
    partial = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    full = idp.token("mcp-client", scope="openid cnpg:read", resource=IDP_RESOURCE)

    refused = _post(client, partial)

    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert 'scope="openid cnpg:read"' in refused.headers["WWW-Authenticate"]
    assert _post(client, full).status_code == 200


def test_a_token_for_another_audience_is_invalid_audience(idp_factory: Callable[..., LocalIdP]) -> None:
    other = "https://other.example.test/mcp"
    provider = idp_factory([IDP_RESOURCE, other])
    token = provider.token("mcp-client", scope="openid", resource=other)

    response = _post(_client(provider), token)

    assert response.status_code == 401
    assert response.get_json()["error_description"] == "Invalid audience"


def test_several_audiences_may_be_configured(idp_factory: Callable[..., LocalIdP]) -> None:
    other = "https://other.example.test/mcp"
    provider = idp_factory([IDP_RESOURCE, other])
    client = _client(provider, OIDC_AUDIENCE=f"{IDP_RESOURCE},{other}")

    for resource in (IDP_RESOURCE, other):
        assert _post(client, provider.token("mcp-client", scope="openid", resource=resource)).status_code == 200


def test_the_audit_log_records_failures_without_the_token(idp: LocalIdP, caplog: pytest.LogCaptureFixture) -> None:
    token = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")

    with caplog.at_level("INFO", logger="cnpg_mcp.audit"):
        _post(_client(idp), tampered)
        _post(_client(idp), token, body={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                          "params": {"name": "cluster_list", "arguments": {"namespace": "x"}}})

    failure = next(r for r in caplog.records if getattr(r, "event", None) == "auth_failure")
    call = next(r for r in caplog.records if getattr(r, "event", None) == "tool_call")
    assert (failure.reason, failure.status, failure.issuer) == ("invalid_token", 401, idp.issuer)
    assert failure.kid and failure.client_addr == "127.0.0.1"
    assert (call.subject, call.client_id, call.tool, call.namespace) == ("mcp-client", "mcp-client", "cluster_list", "x")
    assert call.outcome == "error" and call.duration_ms >= 0
    assert not any(token[:40] in r.getMessage() or token[:40] in str(vars(r)) for r in caplog.records)


# --- keys: rotation, outages, cache ---------------------------------------------


def test_a_rotated_key_is_picked_up_by_the_first_token_that_uses_it(idp_factory: Callable[..., LocalIdP]) -> None:
    provider = idp_factory([IDP_RESOURCE])
    client = _client(provider, OIDC_TOKEN_CACHE_SIZE="0")
    assert _post(client, provider.token("mcp-client", scope="openid", resource=IDP_RESOURCE)).status_code == 200

    provider.rotate_keys()  # right after a fetch: a PyJWT-style cooldown would refuse the new kid here
    fresh = provider.token("mcp-client", scope="openid", resource=IDP_RESOURCE)

    assert _post(client, fresh).status_code == 200


def test_known_keys_keep_working_while_the_provider_is_down_and_new_keys_return_with_it(
    idp_factory: Callable[..., LocalIdP]
) -> None:
    provider = idp_factory([IDP_RESOURCE])
    client = _client(provider, OIDC_TOKEN_CACHE_SIZE="0", OIDC_JWKS_CACHE_SECONDS="1", OIDC_JWKS_COOLDOWN_SECONDS="0")
    token = provider.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    assert _post(client, token).status_code == 200

    provider.stop()
    time.sleep(1.2)  # let the 1 s JWKS cache expire, so verification needs the (unreachable) endpoint
    during_outage = _post(client, token).status_code
    provider.start()
    provider.rotate_keys()
    after = _post(client, provider.token("mcp-client", scope="openid", resource=IDP_RESOURCE)).status_code

    assert during_outage == 200  # last-known-good keys
    assert after == 200  # the provider is back with new keys


def test_verified_tokens_are_cached_but_never_beyond_their_expiry(idp_factory: Callable[..., LocalIdP]) -> None:
    provider = idp_factory([IDP_RESOURCE])
    app = create_app(Settings.from_env({"OIDC_ISSUER": provider.issuer, "OIDC_AUDIENCE": IDP_RESOURCE,
                                        "OIDC_LEEWAY_SECONDS": "0", "LOG_LEVEL": "WARNING"}))
    verifier = app.extensions["cnpg_mcp"].verifier
    now = int(time.time())
    short = provider.mint({"iss": provider.issuer, "aud": IDP_RESOURCE, "sub": "svc", "scope": "openid",
                           "iat": now, "exp": now + 2})

    first = verifier.verify(f"Bearer {short}")
    second = verifier.verify(f"Bearer {short}")
    fetches, cached = verifier.keys().fetches, len(verifier.cache)
    time.sleep(max(0.0, now + 2.2 - time.time()))
    expired = _post(app.test_client(), short)

    assert second is first
    assert cached == 1 and fetches == 1
    assert len(verifier.cache) == 0  # the expired entry was dropped, not served
    assert expired.status_code == 401
    assert expired.get_json()["error_description"] == "Token verification failed: token has expired"


# --- limits ---------------------------------------------------------------------


def test_failed_authentication_is_limited_per_client_address(idp: LocalIdP) -> None:
    client = _client(idp, AUTH_FAILURE_LIMIT="3/minute")
    good = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)

    ok_first = [_post(client, good).status_code for _ in range(5)]  # successes never count
    failures = [_post(client, "bad.token.here").status_code for _ in range(5)]
    other_address = _post(client, "bad.token.here", environ_base={"REMOTE_ADDR": "127.0.0.9"})
    limited = _post(client, "bad.token.here")

    assert ok_first == [200] * 5
    assert failures == [401, 401, 401, 429, 429]
    assert other_address.status_code == 401
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_a_locked_out_address_keeps_serving_tokens_already_verified_but_verifies_no_new_ones(idp: LocalIdP) -> None:
    # Someone behind the same NAT fails repeatedly: the caller whose token was verified before keeps
    # working (cache hit, no limit consulted); a token never seen gets 429 before any signature work.
    client = _client(idp, AUTH_FAILURE_LIMIT="2/minute")
    verified = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    assert _post(client, verified).status_code == 200
    assert [_post(client, "bad.token.here").status_code for _ in range(3)] == [401, 401, 429]

    fresh = idp.token("mcp-client-es", scope="openid", resource=IDP_RESOURCE)
    assert _post(client, verified).status_code == 200
    refused = _post(client, fresh)
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests" and int(refused.headers["Retry-After"]) > 0


@pytest.mark.parametrize(("hops", "limited_together"), [("0", True), ("1", False)])
def test_forwarded_addresses_count_only_behind_the_configured_number_of_proxies(
    idp: LocalIdP, hops: str, limited_together: bool
) -> None:
    client = _client(idp, AUTH_FAILURE_LIMIT="2/minute", TRUSTED_PROXY_HOPS=hops)

    for _ in range(2):
        _post(client, "bad.token.here", headers={"X-Forwarded-For": "203.0.113.1"})
    other = client.post("/mcp", json=LIST, headers={"Authorization": "Bearer bad.token.here",
                                                    "X-Forwarded-For": "203.0.113.2"})

    # hops=0: X-Forwarded-For is ignored (spoofable), so both "clients" are one address.
    assert (other.status_code == 429) is limited_together


def test_tools_call_can_be_limited_per_subject(idp: LocalIdP) -> None:
    client = _client(idp, TOOL_CALL_LIMIT="2/minute")
    rs = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    es = idp.token("mcp-client-es", scope="openid", resource=IDP_RESOURCE)
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "cluster_list", "arguments": {"namespace": "nowhere"}}}

    statuses = [_post(client, rs, body=call).status_code for _ in range(3)]
    listing_still_works = _post(client, rs).status_code
    other_subject = _post(client, es, body=call).status_code

    assert statuses == [200, 200, 429]
    assert listing_still_works == 200 and other_subject == 200


def test_keys_too_old_to_trust_during_an_outage_give_503_not_a_lockout(idp_factory: Callable[..., LocalIdP]) -> None:
    provider = idp_factory([IDP_RESOURCE])
    client = _client(provider, OIDC_TOKEN_CACHE_SIZE="0", OIDC_JWKS_CACHE_SECONDS="1", OIDC_JWKS_COOLDOWN_SECONDS="0",
                     OIDC_JWKS_STALE_SECONDS="0", AUTH_FAILURE_LIMIT="1/minute")
    token = provider.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    assert _post(client, token).status_code == 200

    provider.stop()
    time.sleep(1.2)
    statuses = [_post(client, token).status_code for _ in range(3)]
    provider.start()

    assert statuses == [503, 503, 503]  # never 401, so the outage does not count as failed logins (limit 1)
    assert _post(client, token).status_code == 200


def test_without_discovery_the_metadata_is_built_from_the_configured_jwks_uri(
    idp_factory: Callable[..., LocalIdP]
) -> None:
    provider = idp_factory([IDP_RESOURCE])
    client = _client(provider, OIDC_JWKS_URI=provider.jwks_uri, DCR_PROXY_URL="https://dcr.example.test/register")
    token = provider.token("mcp-client", scope="openid", resource=IDP_RESOURCE)
    assert _post(client, token).status_code == 200  # keys fetched from OIDC_JWKS_URI
    provider.stop()
    try:
        metadata = client.get("/.well-known/oauth-authorization-server")
    finally:
        provider.start()

    assert metadata.status_code == 200
    assert metadata.get_json() == {
        "issuer": provider.issuer, "jwks_uri": provider.jwks_uri, "scopes_supported": ["openid"],
        "registration_endpoint": "https://dcr.example.test/register",
    }


def test_protected_resource_metadata_is_served_under_a_proxy_path_prefix(idp: LocalIdP) -> None:
    client = _client(idp, MCP_PUBLIC_URL="https://example.test/cnpg/mcp")
    challenge = _post(client, None).headers["WWW-Authenticate"]

    metadata = client.get("/.well-known/oauth-protected-resource/cnpg/mcp")

    assert 'resource_metadata="https://example.test/.well-known/oauth-protected-resource/cnpg/mcp"' in challenge
    assert metadata.status_code == 200 and metadata.get_json()["resource"] == "https://example.test/cnpg/mcp"


def test_an_empty_oidc_scope_requires_no_scope(idp: LocalIdP) -> None:
    now = int(time.time())
    scopeless = idp.mint({"iss": idp.issuer, "aud": IDP_RESOURCE, "sub": "daemon", "iat": now, "exp": now + 300})

    assert _post(_client(idp), scopeless).status_code == 403
    assert _post(_client(idp, OIDC_SCOPE=""), scopeless).status_code == 200
