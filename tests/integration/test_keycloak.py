"""Tokens from a real Keycloak (the pinned distribution, devenv/keycloak.py), set up as the seed
guide's Keycloak section says: an API client `mcp-api`, an audience mapper putting it into `aud`
(OIDC_AUDIENCE=mcp-api), scopes mapped to MCP_SCOPE_READ/WRITE/ADMIN, a confidential client for
client credentials. The app runs in-process against the real control plane."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import kubernetes
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from devenv.controlplane import LocalControlPlane
from devenv.kubelet_sim import wait_for
from devenv.keycloak import AUDIENCE, NO_AUDIENCE_CLIENT, LocalKeycloak

SCOPES = {"MCP_SCOPE_READ": "mcp:read", "MCP_SCOPE_WRITE": "mcp:write", "MCP_SCOPE_ADMIN": "mcp:admin"}


def oidc_settings(keycloak: LocalKeycloak) -> dict[str, str]:
    """The seed guide's OIDC settings for this realm, over HTTPS with the run's CA (OIDC_CA_FILE)."""
    return {"OIDC_ISSUER": keycloak.issuer, "OIDC_CA_FILE": str(keycloak.ca_file), "OIDC_AUDIENCE": AUDIENCE}


@pytest.fixture(scope="module")
def keycloak() -> Iterator[LocalKeycloak]:
    with LocalKeycloak() as running:
        yield running


@pytest.fixture(scope="module")
def client(keycloak: LocalKeycloak, controlplane: LocalControlPlane, tmp_path_factory: pytest.TempPathFactory
           ) -> FlaskClient:
    kubeconfig = controlplane.write_kubeconfig(tmp_path_factory.mktemp("keycloak") / "kubeconfig", "admin")
    settings = Settings.from_env({**oidc_settings(keycloak), "OIDC_SCOPE": "openid",
                                  "KUBECONFIG": str(Path(kubeconfig)), "LOG_LEVEL": "WARNING",
                                  "AUTH_FAILURE_LIMIT": "10000/minute", **SCOPES})
    return create_app(settings).test_client()


def _rpc(client: FlaskClient, token: str, method: str, params: dict[str, Any] | None = None):
    return client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}},
                       headers={"Authorization": f"Bearer {token}"})


def test_a_client_credentials_token_lists_and_calls_the_read_tools(keycloak: LocalKeycloak,
                                                                  client: FlaskClient) -> None:
    token = keycloak.client_credentials_token(scope="openid")
    listed = _rpc(client, token, "tools/list")
    called = _rpc(client, token, "tools/call", {"name": "cluster_list", "arguments": {"namespace": "default"}})

    assert listed.status_code == 200
    names = [t["name"] for t in listed.get_json()["result"]["tools"]]
    assert "cluster_list" in names and "cluster_create" not in names  # mcp:read only, by default
    assert called.status_code == 200
    result = called.get_json()["result"]
    assert not result.get("isError"), result
    assert result["structuredContent"]["clusters"] == []


def test_a_write_tool_needs_the_write_scope_keycloak_grants_on_request(keycloak: LocalKeycloak,
                                                                      client: FlaskClient) -> None:
    call = {"name": "cluster_create", "arguments": {"name": "kc", "namespace": "default", "dry_run": True}}
    refused = _rpc(client, keycloak.client_credentials_token(scope="openid"), "tools/call", call)
    allowed = _rpc(client, keycloak.client_credentials_token(scope="openid mcp:write"), "tools/call", call)

    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope"') and 'scope="openid mcp:write"' in challenge
    assert allowed.status_code == 200
    result = allowed.get_json()["result"]
    assert not result.get("isError"), result
    assert result["structuredContent"]["dry_run"] is True


def test_a_token_without_the_audience_mapper_is_refused(keycloak: LocalKeycloak, client: FlaskClient) -> None:
    response = _rpc(client, keycloak.client_credentials_token(NO_AUDIENCE_CLIENT, scope="openid"), "tools/list")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_protected_resource_metadata_names_the_keycloak_realm(keycloak: LocalKeycloak,
                                                                  client: FlaskClient) -> None:
    metadata = client.get("/.well-known/oauth-protected-resource").get_json()

    assert metadata["authorization_servers"] == [keycloak.issuer]
    assert keycloak.discovery()["issuer"] == keycloak.issuer


def test_a_key_rotation_in_the_realm_is_picked_up_on_the_first_new_kid(keycloak: LocalKeycloak,
                                                                       client: FlaskClient) -> None:
    before = keycloak.client_credentials_token(scope="openid")
    assert _rpc(client, before, "tools/list").status_code == 200  # the server has the realm's keys now

    keycloak.rotate_keys()
    after = keycloak.client_credentials_token(scope="openid")

    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    assert _rpc(client, after, "tools/list").status_code == 200
    assert _rpc(client, before, "tools/list").status_code == 200  # the old key is still published


def test_keycloak_groups_decide_what_the_impersonated_caller_may_do(
    keycloak: LocalKeycloak, controlplane: LocalControlPlane, admin_api: kubernetes.client.ApiClient,
    impersonation_rbac: None, sa_kubeconfig: Path,
) -> None:
    """The realm puts the client's service account in group `dba` and a group mapper puts `groups`
    into its tokens; KUBE_IMPERSONATE maps them to `oidc:dba`, which is bound in one namespace only."""
    granted, other = (f"kc-{uuid.uuid4().hex[:8]}" for _ in range(2))
    core, rbac = kubernetes.client.CoreV1Api(admin_api), kubernetes.client.RbacAuthorizationV1Api(admin_api)
    custom = kubernetes.client.CustomObjectsApi(admin_api)
    for namespace in (granted, other):
        core.create_namespace({"metadata": {"name": namespace}})
        custom.create_namespaced_custom_object("postgresql.cnpg.io", "v1", namespace, "clusters", {
            "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
            "spec": {"instances": 1, "storage": {"size": "1Gi"}}})
    rbac.create_namespaced_role_binding(granted, {
        "metadata": {"name": "dba"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cnpg-mcp-server"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "oidc:dba"}]})
    settings = Settings.from_env({**oidc_settings(keycloak), "LOG_LEVEL": "WARNING",
                                  "KUBECONFIG": str(sa_kubeconfig), "KUBE_IMPERSONATE": "true",
                                  "AUTH_FAILURE_LIMIT": "10000/minute", **SCOPES})
    impersonating = create_app(settings).test_client()
    token = keycloak.client_credentials_token(scope="openid")
    subject = jwt.decode(token, options={"verify_signature": False})["sub"]
    # The RBAC authorizer learns of the binding from a watch: wait until it is in effect.
    authz = kubernetes.client.AuthorizationV1Api(admin_api)
    wait_for(lambda: authz.create_subject_access_review({"spec": {
        "user": f"oidc:{subject}", "groups": ["oidc:dba"],
        "resourceAttributes": {"namespace": granted, "verb": "get", "group": "postgresql.cnpg.io",
                               "resource": "clusters"}}}).status.allowed, "the group's binding to take effect")
    try:
        allowed = _rpc(impersonating, token, "tools/call",
                       {"name": "cluster_get", "arguments": {"namespace": granted, "name": "pg"}})
        refused = _rpc(impersonating, token, "tools/call",
                       {"name": "cluster_get", "arguments": {"namespace": other, "name": "pg"}})
    finally:
        for namespace in (granted, other):
            core.delete_namespace(namespace)

    assert allowed.status_code == 200 and not allowed.get_json()["result"]["isError"], allowed.get_json()
    assert allowed.get_json()["result"]["structuredContent"]["name"] == "pg"
    message = refused.get_json()["result"]["content"][0]["text"]
    assert refused.get_json()["result"]["isError"] is True
    assert f'User "oidc:{subject}" cannot get resource "clusters"' in message


LOOPBACK = "http://127.0.0.1:53682/callback"


def _registering(keycloak: LocalKeycloak, initial_access_token: str) -> FlaskClient:
    settings = Settings.from_env({**oidc_settings(keycloak), "LOG_LEVEL": "WARNING",
                                  "DCR_PROXY_BACKEND": "upstream", "DCR_RATE_LIMIT": "1000/minute",
                                  "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": initial_access_token})
    return create_app(settings).test_client()


def test_the_dcr_proxy_registers_public_clients_at_keycloak_with_an_initial_access_token(
    keycloak: LocalKeycloak,
) -> None:
    """The `upstream` backend against Keycloak's advertised registration endpoint; the token allows one
    registration, so the second is the documented 502 that tells the operator to renew it."""
    registering = _registering(keycloak, keycloak.initial_access_token(count=1))
    body = {"redirect_uris": [LOOPBACK], "client_name": "Inspector",
            "grant_types": ["authorization_code", "refresh_token"]}

    first = registering.post("/register", json=body)
    second = registering.post("/register", json=body)

    assert first.status_code == 201, first.get_json()
    registered = first.get_json()
    assert "client_secret" not in registered and registered["token_endpoint_auth_method"] == "none"
    at_keycloak = keycloak.client(registered["client_id"])
    assert at_keycloak is not None
    assert (at_keycloak["publicClient"], at_keycloak["redirectUris"]) == (True, [LOOPBACK])
    assert second.status_code == 502
    assert second.get_json()["error"] == "server_error"
    assert "initial access token" in second.get_json()["error_description"]


def test_with_keycloak_down_tokens_verify_with_the_last_known_keys(keycloak: LocalKeycloak,
                                                                   client: FlaskClient) -> None:
    """Last in this module: it stops the module's Keycloak."""
    token = keycloak.client_credentials_token(scope="openid")
    assert _rpc(client, token, "tools/list").status_code == 200

    keycloak.stop()
    during = _rpc(client, token, "tools/list")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unknown_kid = jwt.encode({"iss": keycloak.issuer, "aud": AUDIENCE, "sub": "x", "exp": 4102444800,
                              "scope": "openid mcp:read"}, stranger, algorithm="RS256", headers={"kid": "not-published"})
    unknown = _rpc(client, unknown_kid, "tools/list")

    assert during.status_code == 200
    assert unknown.status_code == 401
    assert "unknown signing key" in unknown.headers["WWW-Authenticate"]
