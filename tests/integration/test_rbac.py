"""Least privilege, proven: the RBAC shipped in k8s/rbac is applied to the real API server and
every tool runs as the server's ServiceAccount. A tool that gains a Kubernetes call fails here
until the ClusterRole grants it; anything outside the tools' needs stays forbidden."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from app import create_app
from app.settings import Settings
from app.tools.catalog import all_tools
from devenv.controlplane import LocalControlPlane
from tests.integration.rbac_exercises import EXERCISES
from tests.support.manifests import K8S, apply, delete, load_kustomization
from tests.support.mcp_calls import ToolCaller

SA_USER = "system:serviceaccount:cnpg-mcp:cnpg-mcp"


def _namespace(api: kubernetes.client.ApiClient, name: str | None = None) -> str:
    name = name or f"rbac-{uuid.uuid4().hex[:8]}"
    try:
        kubernetes.client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    except kubernetes.client.ApiException as exc:
        if exc.status != 409:
            raise
    return name


@pytest.fixture
def sa_kubeconfig(controlplane: LocalControlPlane, tmp_path: Path) -> Path:
    return controlplane.write_kubeconfig(tmp_path / "sa.yaml", user="serviceaccount")


@pytest.fixture
def sa_api(controlplane: LocalControlPlane) -> kubernetes.client.ApiClient:
    return controlplane.api_client("serviceaccount")


@pytest.fixture
def cluster_wide(admin_api: kubernetes.client.ApiClient) -> Iterator[None]:
    _namespace(admin_api, "cnpg-mcp")
    objects = load_kustomization(K8S / "rbac" / "cluster-wide")
    apply(admin_api, objects)
    yield
    delete(admin_api, objects)


def _namespaced_objects(namespace: str) -> list[dict[str, Any]]:
    objects = copy.deepcopy(load_kustomization(K8S / "rbac" / "namespaced"))
    for obj in objects:
        if obj["kind"] == "RoleBinding":
            obj["metadata"]["namespace"] = namespace
    return objects


def _exercise_every_tool(tools: ToolCaller, admin_api: kubernetes.client.ApiClient, namespace: str) -> set[str]:
    """Call each tool successfully as the server identity; return the names exercised.

    Each domain contributes an `exercise(ok, admin_api, namespace)` in tests/integration/rbac_exercises/.
    """
    used: set[str] = set()

    def ok(tool: str, **arguments: Any) -> dict[str, Any]:
        used.add(tool)
        return tools.ok(tool, **arguments)

    for exercise in EXERCISES:
        exercise(ok, admin_api, namespace)
    return used


def _forbidden(call: Any) -> bool:
    try:
        call()
    except kubernetes.client.ApiException as exc:
        return exc.status == 403
    return False


def test_every_tool_works_as_the_service_account_with_the_cluster_wide_rbac(
    cluster_wide: None, sa_kubeconfig: Path, admin_api: kubernetes.client.ApiClient
) -> None:
    namespace = _namespace(admin_api)
    tools = ToolCaller(create_app(Settings.from_env({"KUBECONFIG": str(sa_kubeconfig)})).test_client())

    used = _exercise_every_tool(tools, admin_api, namespace)
    everywhere = tools.ok("cluster_list")

    assert used == {spec.name for spec in all_tools()}, "add new tools to this RBAC test"
    assert everywhere["scope"] == "all namespaces"


def test_the_service_account_stays_forbidden_outside_what_the_tools_need(
    cluster_wide: None, sa_api: kubernetes.client.ApiClient, admin_api: kubernetes.client.ApiClient
) -> None:
    namespace = _namespace(admin_api)
    core, apps = kubernetes.client.CoreV1Api(sa_api), kubernetes.client.AppsV1Api(sa_api)
    who = kubernetes.client.AuthenticationV1Api(sa_api).create_self_subject_review({})
    kubernetes.client.CoreV1Api(admin_api).create_namespaced_secret(
        namespace, {"metadata": {"name": "db-password"}, "stringData": {"password": "hunter2"}})

    assert who.status.user_info.username == SA_USER
    assert _forbidden(lambda: core.read_namespaced_secret("db-password", namespace))
    assert _forbidden(lambda: core.list_namespaced_secret(namespace))
    assert _forbidden(lambda: core.delete_namespace(namespace))
    assert _forbidden(lambda: core.create_namespaced_pod(namespace, {
        "metadata": {"name": "x"}, "spec": {"containers": [{"name": "x", "image": "busybox"}]}}))
    assert _forbidden(lambda: apps.list_namespaced_deployment(namespace))
    assert _forbidden(lambda: kubernetes.client.CustomObjectsApi(sa_api).list_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", namespace, "subscriptions"))


def test_the_namespaced_variant_works_in_its_namespace_only(
    controlplane: LocalControlPlane, sa_kubeconfig: Path, sa_api: kubernetes.client.ApiClient,
    admin_api: kubernetes.client.ApiClient,
) -> None:
    _namespace(admin_api, "cnpg-mcp")
    granted, other = _namespace(admin_api), _namespace(admin_api)
    objects = _namespaced_objects(granted)
    apply(admin_api, objects)
    try:
        settings = Settings.from_env({"KUBECONFIG": str(sa_kubeconfig), "MCP_NAMESPACES": granted})
        tools = ToolCaller(create_app(settings).test_client())

        used = _exercise_every_tool(tools, admin_api, granted)
        listed = tools.ok("cluster_list")
        refused = tools.error("cluster_list", namespace=other)
        direct = _forbidden(lambda: kubernetes.client.CustomObjectsApi(sa_api).list_namespaced_custom_object(
            "postgresql.cnpg.io", "v1", other, "clusters"))
    finally:
        delete(admin_api, objects)

    assert used == {spec.name for spec in all_tools()}
    assert listed["scope"] == f"namespaces {granted}"
    assert "not served by this server" in refused
    assert direct
