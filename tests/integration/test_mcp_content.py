"""MCP resources, prompts and completions, live from the real API server, in both protocol eras."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import INVALID_PARAMS

from app import create_app
from app.settings import Settings
from devenv.kubelet_sim import simulate_cluster_ready
from tests.conftest import modern_body, modern_headers

RESOURCE_NOT_FOUND_2025 = -32002


@pytest.fixture
def client(kubeconfig: Path, namespace: str) -> FlaskClient:
    settings = Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_NAMESPACES": namespace, "LOG_LEVEL": "WARNING"})
    return create_app(settings).test_client()


@pytest.fixture
def cluster(admin_api: kubernetes.client.ApiClient, namespace: str) -> str:
    kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", namespace, "clusters",
        {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg-main"},
         "spec": {"instances": 3, "storage": {"size": "1Gi"}, "imageName": "ghcr.io/cloudnative-pg/postgresql:16"}})
    simulate_cluster_ready(admin_api, namespace, "pg-main", ready=2)
    return "pg-main"


def _legacy(client: FlaskClient, method: str, params: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    response = client.post("/mcp", json={"jsonrpc": "2.0", "id": 7, "method": method, "params": params or {}})
    return response.status_code, response.get_json()


def _modern(client: FlaskClient, method: str, params: dict[str, Any] | None = None,
            name: str | None = None) -> tuple[int, dict[str, Any]]:
    response = client.post("/mcp", json=modern_body(method, params, 7), headers=modern_headers(method, name))
    return response.status_code, response.get_json()


def test_each_cluster_is_a_listable_resource_with_a_template(client: FlaskClient, cluster: str, namespace: str) -> None:
    _, templates = _legacy(client, "resources/templates/list")
    _, listed = _legacy(client, "resources/list")

    assert templates["result"]["resourceTemplates"][0]["uriTemplate"] == "cnpg://{namespace}/clusters/{name}"
    assert listed["result"]["resources"] == [{
        "uri": f"cnpg://{namespace}/clusters/pg-main", "name": f"{namespace}/pg-main",
        "title": f"Cluster pg-main ({namespace})", "mimeType": "application/json",
        "description": f"PostgreSQL cluster pg-main in {namespace}: Waiting for the instances to become active",
    }]


def test_reading_a_cluster_resource_gives_its_spec_and_status(client: FlaskClient, cluster: str, namespace: str) -> None:
    uri = f"cnpg://{namespace}/clusters/pg-main"

    _, legacy = _legacy(client, "resources/read", {"uri": uri})
    status, modern = _modern(client, "resources/read", {"uri": uri}, name=uri)

    content = legacy["result"]["contents"][0]
    body = json.loads(content["text"])
    assert (content["uri"], content["mimeType"]) == (uri, "application/json")
    assert body["spec"]["instances"] == 3 and body["status"]["readyInstances"] == 2
    assert "managedFields" not in body["metadata"]
    assert status == 200
    assert modern["result"]["cacheScope"] == "private" and modern["result"]["ttlMs"] >= 0
    assert modern["result"]["resultType"] == "complete"


@pytest.mark.parametrize("path", ["clusters/ghost", "databases/x", "nonsense"])
def test_a_missing_resource_is_an_error_with_the_uri_in_each_eras_code(client: FlaskClient, namespace: str,
                                                                       path: str) -> None:
    uri = f"cnpg://{namespace}/{path}"

    legacy_status, legacy = _legacy(client, "resources/read", {"uri": uri})
    modern_status, modern = _modern(client, "resources/read", {"uri": uri}, name=uri)

    assert legacy_status == 200 and legacy["error"]["code"] == RESOURCE_NOT_FOUND_2025
    assert modern_status == 400 and modern["error"]["code"] == INVALID_PARAMS
    assert legacy["error"]["data"] == modern["error"]["data"] == {"uri": uri}


def test_resources_outside_the_namespace_allowlist_are_not_found(client: FlaskClient) -> None:
    _, answer = _legacy(client, "resources/read", {"uri": "cnpg://kube-system/clusters/pg"})

    assert "not served by this server" in answer["error"]["message"]


def test_prompts_are_listed_and_filled_with_the_live_cluster_state(client: FlaskClient, cluster: str,
                                                                    namespace: str) -> None:
    _, listed = _legacy(client, "prompts/list")
    _, troubleshoot = _legacy(client, "prompts/get", {"name": "troubleshoot_cluster",
                                                      "arguments": {"namespace": namespace, "name": "pg-main"}})
    _, upgrade = _modern(client, "prompts/get", {"name": "plan_major_upgrade", "arguments": {
        "namespace": namespace, "name": "pg-main", "target_version": "17"}}, name="plan_major_upgrade")

    assert [p["name"] for p in listed["result"]["prompts"]] == ["troubleshoot_cluster", "plan_major_upgrade"]
    text = troubleshoot["result"]["messages"][0]["content"]["text"]
    assert "pg-main-3" in text and "Waiting for the instances to become active" in text and "\"ready\": false" in text
    upgrade_text = upgrade["result"]["messages"][0]["content"]["text"]
    assert "PostgreSQL 17" in upgrade_text and "ghcr.io/cloudnative-pg/postgresql:16" in upgrade_text


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"name": "no_such_prompt", "arguments": {}}, "Unknown prompt"),
     ({"name": "troubleshoot_cluster", "arguments": {"namespace": "x"}}, "needs the argument(s): name"),
     ({"name": "plan_major_upgrade", "arguments": {"namespace": "x", "name": "y", "target_version": "9"}},
      "target_version must be one of")],
)
def test_bad_prompt_requests_say_what_is_wrong(client: FlaskClient, params: dict[str, Any], expected: str) -> None:
    status, answer = _legacy(client, "prompts/get", params)

    assert status == 200 and expected in answer["error"]["message"]


def test_a_prompt_for_a_missing_cluster_names_the_clusters_that_exist(client: FlaskClient, cluster: str,
                                                                       namespace: str) -> None:
    _, answer = _legacy(client, "prompts/get", {"name": "troubleshoot_cluster",
                                                "arguments": {"namespace": namespace, "name": "pg-mian"}})

    assert answer["error"]["message"] == (
        f"Cluster 'pg-mian' not found in namespace {namespace!r}; clusters there: pg-main")


def _complete(client: FlaskClient, argument: str, value: str, **context: str) -> list[str]:
    _, answer = _legacy(client, "completion/complete", {
        "ref": {"type": "ref/prompt", "name": "troubleshoot_cluster"},
        "argument": {"name": argument, "value": value}, "context": {"arguments": context}})
    return answer["result"]["completion"]["values"]


def test_completions_suggest_namespaces_clusters_instances_and_backups(
    client: FlaskClient, cluster: str, namespace: str, admin_api: kubernetes.client.ApiClient
) -> None:
    for backup in ("pg-main-20260101000000", "pg-main-20260102000000"):
        kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
            "postgresql.cnpg.io", "v1", namespace, "backups",
            {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Backup", "metadata": {"name": backup},
             "spec": {"cluster": {"name": "pg-main"}}})

    assert _complete(client, "namespace", "") == [namespace]
    assert _complete(client, "name", "pg-", namespace=namespace) == ["pg-main"]
    assert _complete(client, "name", "zz", namespace=namespace) == []
    assert _complete(client, "instance", "", namespace=namespace, name="pg-main") == ["pg-main-1", "pg-main-2", "pg-main-3"]
    assert _complete(client, "backup", "pg-main-2026010", namespace=namespace, cluster="pg-main") == [
        "pg-main-20260101000000", "pg-main-20260102000000"]
    assert _complete(client, "instance", "", namespace="kube-system", name="pg-main") == []  # not served
