"""KUBE_AUTH=exchange with real parts only: a real Keycloak (HTTPS, the realm of devenv/keycloak) issues
the callers' tokens through the login form (authorization code + PKCE) and exchanges them (RFC 8693)
for tokens whose audience is `kubernetes`; a real kube-apiserver trusts the realm through its
structured authentication configuration (users "keycloak:<name>", groups "keycloak:<group>"), with
the CloudNativePG CRDs and the real operator's webhooks; RBAC is bound to Keycloak users' groups.
The app runs in-process (Flask test client) so the tests can read its exchange counter.

The server's own kubeconfig is a ServiceAccount bound to nothing: every allowed call below is
allowed to the caller, never to the server.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import kubernetes
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from app import create_app
from app.identity import SubjectToken
from app.settings import Settings
from app.web.state import app_state
from devenv.controlplane import LocalControlPlane
from devenv.keycloak import AUDIENCE, KUBERNETES_AUDIENCE, LocalKeycloak
from devenv.kubelet_sim import wait_for
from devenv.process import free_port
from tests.support.manifests import K8S, apply, load_kustomization

SCOPES = {"MCP_SCOPE_READ": "mcp:read", "MCP_SCOPE_WRITE": "mcp:write", "MCP_SCOPE_ADMIN": "mcp:admin"}
NAMESPACE = "db"
VIEWER_ROLE = {  # what group "viewers" may do: read CloudNativePG clusters, nothing else
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "cnpg-viewer"},
    "rules": [{"apiGroups": ["postgresql.cnpg.io"], "resources": ["clusters"], "verbs": ["get", "list", "watch"]}]}


@pytest.fixture(scope="module")
def keycloak() -> Iterator[LocalKeycloak]:
    with LocalKeycloak() as running:
        yield running


@pytest.fixture(scope="module")
def cluster(keycloak: LocalKeycloak) -> Iterator[LocalControlPlane]:
    """A control plane whose API server trusts the Keycloak realm; group dba gets the tools' role in
    NAMESPACE, group viewers may only read clusters there, and user bob alone may read them in default."""
    with LocalControlPlane(authentication_config=keycloak.apiserver_authentication()) as running:
        admin = running.api_client()
        kubernetes.client.CoreV1Api(admin).create_namespace({"metadata": {"name": NAMESPACE}})
        apply(admin, load_kustomization(K8S / "rbac" / "tools-role") + [VIEWER_ROLE] + [
            _binding("Group", f"keycloak:{group}", role, NAMESPACE) for group, role in (
                ("dba", "cnpg-mcp-server"), ("viewers", "cnpg-viewer"))] + [
            _binding("User", "keycloak:bob", "cnpg-viewer", "default")])
        authz = kubernetes.client.AuthorizationV1Api(admin)
        for user, group, verb, namespace in (("someone", "keycloak:dba", "create", NAMESPACE),
                                             ("someone", "keycloak:viewers", "list", NAMESPACE),
                                             ("keycloak:bob", "none", "list", "default")):
            wait_for(lambda user=user, group=group, verb=verb, namespace=namespace: authz.create_subject_access_review(
                {"spec": {"user": user, "groups": [group], "resourceAttributes": {
                    "namespace": namespace, "verb": verb, "group": "postgresql.cnpg.io", "resource": "clusters"}}}
            ).status.allowed, f"the binding of {user} / {group} to take effect")
        yield running


def _binding(kind: str, name: str, role: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": role + "-" + name.split(":")[1], "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}]}


def _app(keycloak: LocalKeycloak, cluster: LocalControlPlane, tmp: Path, *, secret: str | None = None,
         user: str = "serviceaccount", **extra: str) -> Flask:
    secret_file = tmp / f"client-secret-{uuid.uuid4().hex[:6]}"
    secret_file.write_text(secret or keycloak.secrets[AUDIENCE])
    kubeconfig = cluster.write_kubeconfig(tmp / f"{user}-{uuid.uuid4().hex[:6]}.yaml", user=user)
    return create_app(Settings.from_env({
        "OIDC_ISSUER": keycloak.issuer, "OIDC_CA_FILE": str(keycloak.ca_file), "OIDC_AUDIENCE": AUDIENCE,
        "KUBE_AUTH": "exchange", "KUBE_EXCHANGE_AUDIENCE": KUBERNETES_AUDIENCE, "KUBE_EXCHANGE_CLIENT_ID": AUDIENCE,
        "KUBE_EXCHANGE_CLIENT_SECRET_FILE": str(secret_file), "KUBECONFIG": str(kubeconfig),
        "LOG_LEVEL": "INFO", "AUTH_FAILURE_LIMIT": "10000/minute", **SCOPES, **extra}))


@pytest.fixture(scope="module")
def app(keycloak: LocalKeycloak, cluster: LocalControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return _app(keycloak, cluster, tmp_path_factory.mktemp("exchange"))


@pytest.fixture(scope="module")
def tokens(keycloak: LocalKeycloak) -> dict[str, str]:
    """Each user's access token from the login form, with the write scope (RBAC, not scopes, decides)."""
    return {user: keycloak.user_token(user, "openid mcp:write") for user in ("alice", "bob")}


def _call(client: FlaskClient, token: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                       "params": {"name": tool, "arguments": arguments}},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return dict(answer.get_json()["result"])


def _text(result: dict[str, Any]) -> str:
    return str(result["content"][0]["text"])


def _new_cluster(name: str) -> dict[str, Any]:
    return {"namespace": NAMESPACE, "name": name, "instances": 1, "storage_size": "1Gi"}


def test_each_caller_runs_as_themselves_and_rbac_decides(app: Flask, tokens: dict[str, str],
                                                       cluster: LocalControlPlane,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    client = app.test_client()
    name = f"pg-{uuid.uuid4().hex[:6]}"
    with caplog.at_level(logging.INFO, logger="cnpg_mcp.audit"):
        created = _call(client, tokens["alice"], "cluster_create", _new_cluster(name))
        listed = _call(client, tokens["bob"], "cluster_list", {"namespace": NAMESPACE})
        refused = _call(client, tokens["bob"], "cluster_create", _new_cluster(f"{name}-bob"))
        elsewhere = _call(client, tokens["alice"], "cluster_list", {"namespace": "default"})
        bobs_own = _call(client, tokens["bob"], "cluster_list", {"namespace": "default"})

    assert not created.get("isError"), created
    stored = kubernetes.client.CustomObjectsApi(cluster.api_client()).get_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", NAMESPACE, "clusters", name)
    assert stored["metadata"]["name"] == name  # made through the real operator's webhooks, as alice
    assert not listed.get("isError") and name in json.dumps(listed["structuredContent"])
    assert refused["isError"] is True
    assert 'User "keycloak:bob" cannot create resource "clusters"' in _text(refused)
    assert elsewhere["isError"] is True  # alice's group is bound in NAMESPACE only
    assert 'User "keycloak:alice" cannot list resource "clusters"' in _text(elsewhere)
    assert not bobs_own.get("isError"), bobs_own  # bound to bob as a user, not to a group
    audited = [(r.tool, r.outcome, r.kube_user) for r in caplog.records if getattr(r, "event", "") == "tool_call"]
    assert audited == [("cluster_create", "ok", "keycloak:alice"), ("cluster_list", "ok", "keycloak:bob"),
                       ("cluster_create", "error", "keycloak:bob"), ("cluster_list", "error", "keycloak:alice"),
                       ("cluster_list", "ok", "keycloak:bob")]
    exchanger = app_state(app).kube.exchanger
    assert exchanger is not None
    for token in tokens.values():  # neither the callers' nor the exchanged tokens are ever logged
        exchanged = exchanger.cached(_subject(token))
        assert exchanged is not None and exchanged.token not in caplog.text and token not in caplog.text


def test_the_servers_own_credentials_never_go_with_a_call(keycloak: LocalKeycloak, cluster: LocalControlPlane,
                                                         tokens: dict[str, str], tmp_path: Path) -> None:
    """Even with an all-powerful kubeconfig (system:masters), bob's create is refused: the API server
    only ever sees his exchanged token."""
    client = _app(keycloak, cluster, tmp_path, user="admin").test_client()
    refused = _call(client, tokens["bob"], "cluster_create", _new_cluster(f"pg-{uuid.uuid4().hex[:6]}"))
    assert refused["isError"] is True
    assert 'User "keycloak:bob" cannot create resource "clusters"' in _text(refused)


def test_exchanged_tokens_are_cached_renewed_before_expiry_and_after_a_rejection(
        app: Flask, keycloak: LocalKeycloak, tokens: dict[str, str]) -> None:
    client = app.test_client()
    exchanger = app_state(app).kube.exchanger
    assert exchanger is not None
    token = keycloak.user_token("alice", "openid")
    before = exchanger.exchanges
    for _ in range(3):
        assert not _call(client, token, "cluster_list", {"namespace": NAMESPACE}).get("isError")
    assert exchanger.exchanges == before + 1  # one exchange, then the cache

    cached = exchanger.cached(_subject(token))
    assert cached is not None
    claims = jwt.decode(cached.token, options={"verify_signature": False})
    assert claims["aud"] == KUBERNETES_AUDIENCE and claims["azp"] == AUDIENCE
    assert claims["exp"] - 30 <= cached.renew_at < claims["exp"]  # renewed shortly before it expires

    assert (REGISTRY.get_sample_value("kube_token_exchanges_total", {"outcome": "cached"}) or 0) >= 2
    cached.renew_at = time.time() - 1  # as if its renewal time had come
    assert not _call(client, token, "cluster_list", {"namespace": NAMESPACE}).get("isError")
    assert exchanger.exchanges == before + 2

    # As if the API server stopped accepting the exchanged token early: a 401, one renewal, success.
    renewed = exchanger.cached(_subject(token))
    assert renewed is not None and renewed is not cached
    renewed.token = renewed.token[:-8] + "AAAAAAAA"
    assert not _call(client, token, "cluster_list", {"namespace": NAMESPACE}).get("isError")
    assert exchanger.exchanges == before + 3


def _subject(token: str) -> SubjectToken:
    return SubjectToken(token)


def test_a_caller_whose_session_ended_is_refused_and_nothing_leaks(
        app: Flask, keycloak: LocalKeycloak, caplog: pytest.LogCaptureFixture) -> None:
    """bob signs out at Keycloak: his access token still verifies by signature at the MCP server, but
    Keycloak no longer exchanges it, so the call is refused (403-class) with an operator log line."""
    token = keycloak.user_token("bob", "openid")
    keycloak.logout("bob")
    with caplog.at_level(logging.INFO):
        result = _call(app.test_client(), token, "cluster_list", {"namespace": NAMESPACE})
    assert result["isError"] is True
    assert _text(result).startswith("The identity provider refused to exchange your token")
    logged = [r for r in caplog.records if getattr(r, "event", "") == "token_exchange"]
    assert [(r.outcome, r.levelname) for r in logged] == [("refused", "WARNING")]
    assert logged[0].subject == jwt.decode(token, options={"verify_signature": False})["sub"]
    assert token not in caplog.text and token[-20:] not in caplog.text


@pytest.mark.parametrize("fault", ["wrong client secret", "identity provider unreachable"])
def test_an_exchange_failure_is_a_precise_tool_error(fault: str, keycloak: LocalKeycloak, cluster: LocalControlPlane,
                                                    tokens: dict[str, str], tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    if fault == "wrong client secret":
        app, expected = _app(keycloak, cluster, tmp_path, secret="not-the-secret"), "it answered HTTP 401 unauthorized_client"
    else:
        url = f"https://127.0.0.1:{free_port()}/token"
        app, expected = _app(keycloak, cluster, tmp_path, KUBE_EXCHANGE_TOKEN_URL=url), "it cannot be reached"
    with caplog.at_level(logging.INFO):
        result = _call(app.test_client(), tokens["alice"], "cluster_list", {"namespace": NAMESPACE})
    assert result["isError"] is True
    assert _text(result).startswith("Cannot run this call as you: exchanging your token at the identity "
                                    f"provider failed ({expected}")
    assert [r.outcome for r in caplog.records if getattr(r, "event", "") == "token_exchange"] == ["failed"]
    assert tokens["alice"] not in caplog.text


def test_the_exchange_adds_one_round_trip_per_caller_token(app: Flask, keycloak: LocalKeycloak,
                                                         cluster: LocalControlPlane, tmp_path: Path) -> None:
    """Figures for the closing note: a tool call's latency with the exchanged token cached (hit) and
    exchanged anew (miss: the exchange plus a SelfSubjectReview for the audit line), next to the same
    call as the server's own identity. Printed, not asserted against a clock."""
    client = app.test_client()
    exchanger = app_state(app).kube.exchanger
    assert exchanger is not None
    token = keycloak.user_token("alice", "openid")
    subject = _subject(token)
    arguments = {"namespace": NAMESPACE}
    plain = create_app(Settings.from_env({
        "KUBECONFIG": str(cluster.write_kubeconfig(tmp_path / "admin.yaml", user="admin")),
        "LOG_LEVEL": "WARNING"})).test_client()

    def timed(call: Any, rounds: int = 15) -> list[float]:
        seconds = []
        for _ in range(rounds):
            began = time.perf_counter()
            call()
            seconds.append((time.perf_counter() - began) * 1000)
        return seconds

    _call(client, token, "cluster_list", arguments)  # warm: discovery, connections
    misses_before = exchanger.exchanges
    miss = timed(lambda: (exchanger.forget(subject), _call(client, token, "cluster_list", arguments)))
    assert exchanger.exchanges == misses_before + 15
    hit = timed(lambda: _call(client, token, "cluster_list", arguments))
    assert exchanger.exchanges == misses_before + 15
    own = timed(lambda: plain.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "cluster_list", "arguments": arguments}}))
    print("\ncluster_list latency, ms (median / p90 of 15): "
          + "; ".join(f"{label} {statistics.median(v):.1f} / {sorted(v)[13]:.1f}"
                      for label, v in (("server identity", own), ("exchange cached", hit), ("exchange miss", miss))),
          file=sys.stderr)
    assert statistics.median(miss) > 0 and statistics.median(hit) > 0


def test_an_api_server_that_does_not_trust_the_identity_provider_is_named(
        keycloak: LocalKeycloak, controlplane: LocalControlPlane, tokens: dict[str, str], tmp_path: Path) -> None:
    """The session's control plane has no JWT authenticator: the exchange succeeds, the API server
    answers 401 to the exchanged token, and the caller is told what the operator must fix."""
    result = _call(_app(keycloak, controlplane, tmp_path).test_client(), tokens["alice"], "cluster_list",
                   {"namespace": "default"})
    assert result["isError"] is True
    assert _text(result).startswith("The Kubernetes API did not accept your exchanged token (HTTP 401): the API "
                                    "server must trust the identity provider for the audience 'kubernetes'")
