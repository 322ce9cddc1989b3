"""Per-caller authorization against the real identity provider and the real control plane:
scopes decide which tools a caller sees and may call, and (with KUBE_IMPERSONATE) Kubernetes
RBAC decides, per caller, what those tools may touch."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from app.tools.catalog import all_tools
from devenv.controlplane import LocalControlPlane
from devenv.idp import LocalIdP
from tests.conftest import modern_body, modern_headers
from tests.integration.conftest import IDP_RESOURCE

SCOPES = {"MCP_SCOPE_READ": "cnpg:read", "MCP_SCOPE_WRITE": "cnpg:write", "MCP_SCOPE_ADMIN": "cnpg:admin"}
READ = [s.name for s in all_tools() if s.hints.read_only]
WRITE = [s.name for s in all_tools() if not s.hints.read_only and not s.hints.destructive]
ADMIN = [s.name for s in all_tools() if s.hints.destructive]


def _client(idp: LocalIdP, **env: str) -> FlaskClient:
    base = {"OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": IDP_RESOURCE, "LOG_LEVEL": "WARNING",
            "AUTH_FAILURE_LIMIT": "10000/minute", **SCOPES}
    return create_app(Settings.from_env({**base, **env})).test_client()


def _token(idp: LocalIdP, scope: str, client_id: str = "mcp-client") -> str:
    return idp.token(client_id, scope=scope, resource=IDP_RESOURCE)


def _rpc(client: FlaskClient, token: str, method: str, params: dict[str, Any] | None = None):
    return client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}},
                       headers={"Authorization": f"Bearer {token}"})


def _listed(client: FlaskClient, token: str) -> list[str]:
    return [t["name"] for t in _rpc(client, token, "tools/list").get_json()["result"]["tools"]]


# --- scopes → tools ---------------------------------------------------------------


def test_each_scope_sees_its_class_of_tools_and_higher_scopes_include_lower(idp: LocalIdP) -> None:
    client = _client(idp)

    reader = _listed(client, _token(idp, "openid cnpg:read"))
    writer = _listed(client, _token(idp, "openid cnpg:write"))
    admin = _listed(client, _token(idp, "openid cnpg:admin", "mcp-client-es"))
    nothing = _listed(client, _token(idp, "openid"))

    assert reader == READ
    assert set(writer) == set(READ) | set(WRITE)
    assert set(admin) == set(READ) | set(WRITE) | set(ADMIN)
    assert nothing == []
    assert READ and WRITE and ADMIN


@pytest.mark.parametrize(
    ("scope", "tool", "needed"),
    [("openid cnpg:read", "cluster_create", "openid cnpg:write"),
     ("openid cnpg:read", "cluster_delete", "openid cnpg:admin"),
     ("openid cnpg:write", "cluster_delete", "openid cnpg:admin"),
     ("openid", "cluster_list", "openid cnpg:read")],
)
def test_calling_a_tool_without_its_scope_is_a_403_step_up_challenge(idp: LocalIdP, scope: str, tool: str,
                                                                       needed: str) -> None:
    client = _client(idp)
    response = _rpc(client, _token(idp, scope), "tools/call", {"name": tool, "arguments": {}})

    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="insufficient_scope"')
    assert f'scope="{needed}"' in challenge and "resource_metadata=" in challenge
    assert response.get_json()["error"]["data"] == {"requiredScopes": needed.split()}


def test_a_sufficient_scope_reaches_the_tool(idp: LocalIdP) -> None:
    client = _client(idp)
    # backup_delete checks its confirmation before any Kubernetes call (this app has no cluster), so the
    # tool's own refusal proves the admin scope let the call through to the handler.
    response = _rpc(client, _token(idp, "openid cnpg:admin"), "tools/call",
                    {"name": "backup_delete", "arguments": {"name": "pg-1", "namespace": "x", "confirm": "nope"}})

    assert response.status_code == 200
    assert "repeat 'pg-1' exactly in confirm" in response.get_json()["result"]["content"][0]["text"]


def test_stateless_tool_lists_are_private_to_the_caller(idp: LocalIdP) -> None:
    client = _client(idp)
    response = client.post("/mcp", json=modern_body("tools/list"), headers={
        **modern_headers("tools/list"), "Authorization": f"Bearer {_token(idp, 'openid cnpg:read')}"})

    assert response.get_json()["result"]["cacheScope"] == "private"


def test_protected_resource_metadata_lists_every_supported_scope(idp: LocalIdP) -> None:
    metadata = _client(idp).get("/.well-known/oauth-protected-resource/mcp").get_json()

    assert metadata["scopes_supported"] == ["openid", "cnpg:read", "cnpg:write", "cnpg:admin"]


def test_without_per_class_scopes_every_authenticated_caller_sees_every_tool(idp: LocalIdP) -> None:
    client = _client(idp, MCP_SCOPE_READ="", MCP_SCOPE_WRITE="", MCP_SCOPE_ADMIN="")

    assert _listed(client, _token(idp, "openid")) == [s.name for s in all_tools()]


# --- Kubernetes impersonation -------------------------------------------------------


@pytest.fixture
def teams(admin_api: kubernetes.client.ApiClient) -> Iterator[dict[str, str]]:
    """team-a for the provider's client `mcp-client`, team-b for `mcp-client-es`, each with one cluster."""
    suffix = uuid.uuid4().hex[:6]
    names = {"a": f"team-a-{suffix}", "b": f"team-b-{suffix}"}
    core, rbac = kubernetes.client.CoreV1Api(admin_api), kubernetes.client.RbacAuthorizationV1Api(admin_api)
    custom = kubernetes.client.CustomObjectsApi(admin_api)
    for key, namespace in names.items():
        core.create_namespace({"metadata": {"name": namespace}})
        custom.create_namespaced_custom_object("postgresql.cnpg.io", "v1", namespace, "clusters", {
            "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": f"pg-{key}"},
            "spec": {"instances": 1, "storage": {"size": "1Gi"}}})
    for key, user in (("a", "oidc:mcp-client"), ("b", "oidc:mcp-client-es")):
        rbac.create_namespaced_role_binding(names[key], {
            "metadata": {"name": "cnpg-mcp-caller"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cnpg-mcp-server"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
    yield names


def _impersonating(idp: LocalIdP, kubeconfig: Path, **env: str) -> FlaskClient:
    return _client(idp, KUBECONFIG=str(kubeconfig), KUBE_IMPERSONATE="true", KUBE_TIMEOUT_SECONDS="5", **env)


def _call(client: FlaskClient, token: str, tool: str, **arguments: Any) -> dict[str, Any]:
    response = _rpc(client, token, "tools/call", {"name": tool, "arguments": arguments})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["result"]


def test_each_caller_lists_and_changes_only_its_own_namespace(
    idp: LocalIdP, teams: dict[str, str], impersonation_rbac: None, sa_kubeconfig: Path
) -> None:
    client = _impersonating(idp, sa_kubeconfig, MCP_NAMESPACES=f"{teams['a']},{teams['b']}")
    alice = _token(idp, "openid cnpg:write", "mcp-client")
    bob = _token(idp, "openid cnpg:write", "mcp-client-es")

    alice_list = _call(client, alice, "cluster_list")["structuredContent"]
    bob_list = _call(client, bob, "cluster_list")["structuredContent"]
    alice_scales = _call(client, alice, "cluster_scale", name="pg-a", namespace=teams["a"], instances=2)
    alice_refused = _call(client, alice, "cluster_scale", name="pg-b", namespace=teams["b"], instances=2)

    assert [(c["name"], c["namespace"]) for c in alice_list["clusters"]] == [("pg-a", teams["a"])]
    assert alice_list["scope"] == f"namespaces {teams['a']}"
    assert [(c["name"], c["namespace"]) for c in bob_list["clusters"]] == [("pg-b", teams["b"])]
    assert alice_scales["isError"] is False and alice_scales["structuredContent"]["instances"] == 2
    message = alice_refused["content"][0]["text"]
    assert alice_refused["isError"] is True and message.startswith("Forbidden: not allowed to get cluster 'pg-b'")
    assert 'User "oidc:mcp-client" cannot get resource "clusters"' in message


def test_a_caller_without_bindings_gets_clean_forbidden_errors(
    idp: LocalIdP, teams: dict[str, str], impersonation_rbac: None, sa_kubeconfig: Path
) -> None:
    client = _impersonating(idp, sa_kubeconfig, MCP_NAMESPACES=teams["a"])
    now = int(time.time())
    stranger = idp.mint({"iss": idp.issuer, "aud": IDP_RESOURCE, "sub": "stranger", "scope": "openid cnpg:read",
                         "iat": now, "exp": now + 300})

    listed = _call(client, stranger, "cluster_list")
    direct = _call(client, stranger, "cluster_get", name="pg-a", namespace=teams["a"])

    assert listed["structuredContent"]["clusters"] == []
    assert listed["structuredContent"]["scope"] == "no namespace this caller may list"
    assert direct["isError"] is True and 'User "oidc:stranger" cannot get resource "clusters"' in direct["content"][0]["text"]


def test_a_cluster_wide_list_without_allowlist_explains_what_to_do(
    idp: LocalIdP, teams: dict[str, str], impersonation_rbac: None, sa_kubeconfig: Path
) -> None:
    client = _impersonating(idp, sa_kubeconfig)
    result = _call(client, _token(idp, "openid cnpg:read"), "cluster_list")

    assert result["isError"] is True
    assert result["content"][0]["text"].startswith("oidc:mcp-client may not list clusters in all namespaces")


def test_the_service_account_itself_may_only_impersonate(
    controlplane: LocalControlPlane, teams: dict[str, str], impersonation_rbac: None
) -> None:
    sa = controlplane.api_client("serviceaccount")

    def allowed(attributes: dict[str, str]) -> bool:
        review = kubernetes.client.AuthorizationV1Api(sa).create_self_subject_access_review(
            {"spec": {"resourceAttributes": attributes}})
        return review.status.allowed

    assert allowed({"verb": "impersonate", "resource": "users"})
    assert allowed({"verb": "impersonate", "resource": "groups"})
    assert not allowed({"verb": "list", "group": "postgresql.cnpg.io", "resource": "clusters"})
    assert not allowed({"verb": "get", "group": "postgresql.cnpg.io", "resource": "clusters", "namespace": teams["a"]})
    assert not allowed({"verb": "impersonate", "resource": "serviceaccounts"})


def test_the_audit_line_names_the_impersonated_identity(
    idp: LocalIdP, teams: dict[str, str], impersonation_rbac: None, sa_kubeconfig: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = _impersonating(idp, sa_kubeconfig, MCP_NAMESPACES=teams["a"])
    with caplog.at_level("INFO", logger="cnpg_mcp.audit"):
        _call(client, _token(idp, "openid cnpg:read"), "cluster_get", name="pg-a", namespace=teams["a"])

    line = next(r for r in caplog.records if getattr(r, "event", None) == "tool_call")
    assert (line.subject, line.impersonated, line.tool, line.outcome) == (
        "mcp-client", "oidc:mcp-client", "cluster_get", "ok")


def test_every_group_from_the_token_is_impersonated_with_its_prefix(
    idp: LocalIdP, teams: dict[str, str], impersonation_rbac: None, sa_kubeconfig: Path,
    admin_api: kubernetes.client.ApiClient,
) -> None:
    kubernetes.client.RbacAuthorizationV1Api(admin_api).create_namespaced_role_binding(teams["b"], {
        "metadata": {"name": "dba-group"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cnpg-mcp-server"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "idp:dbas"}]})
    client = _impersonating(idp, sa_kubeconfig, MCP_NAMESPACES=teams["b"], KUBE_IMPERSONATE_GROUPS_PREFIX="idp:")
    now = int(time.time())
    carol = idp.mint({"iss": idp.issuer, "aud": IDP_RESOURCE, "sub": "carol", "groups": ["ops", "dbas"],
                      "scope": "openid cnpg:read", "iat": now, "exp": now + 300})

    result = _call(client, carol, "cluster_get", name="pg-b", namespace=teams["b"])

    assert result["isError"] is False and result["structuredContent"]["name"] == "pg-b"


def test_a_token_without_the_user_claim_is_refused_before_any_kubernetes_call(
    idp: LocalIdP, sa_kubeconfig: Path
) -> None:
    client = _impersonating(idp, sa_kubeconfig, KUBE_IMPERSONATE_USER_CLAIM="email")
    response = _rpc(client, _token(idp, "openid cnpg:read"), "tools/call",
                    {"name": "cluster_list", "arguments": {}})

    assert response.status_code == 403
    assert "no 'email' claim" in response.get_json()["error_description"]
