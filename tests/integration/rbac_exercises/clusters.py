"""Cluster lifecycle tools, as the server's ServiceAccount."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import kubernetes

from devenv.kubelet_sim import simulate_cluster_ready


def exercise(ok: Callable[..., dict[str, Any]], admin_api: kubernetes.client.ApiClient, namespace: str) -> None:
    ok("cluster_create", name="pg", namespace=namespace, instances=2, dry_run=True)
    ok("cluster_create", name="pg", namespace=namespace, instances=2, parameters={"work_mem": "4MB"})
    simulate_cluster_ready(admin_api, namespace, "pg")
    assert ok("cluster_list", namespace=namespace)["count"] == 1
    assert ok("cluster_get", name="pg", namespace=namespace)["pods"]
    ok("cluster_scale", name="pg", namespace=namespace, instances=3)
    ok("cluster_set_parameters", name="pg", namespace=namespace, parameters={"work_mem": "8MB"})
    ok("cluster_resize_storage", name="pg", namespace=namespace, size="20Gi")
    kubernetes.client.CoreV1Api(admin_api).create_namespaced_secret(
        namespace, {"metadata": {"name": "pg-mcp-made"}, "stringData": {"k": "v"}})
    kubernetes.client.CustomObjectsApi(admin_api).patch_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", namespace, "clusters", "pg",
        {"metadata": {"annotations": {"cnpg-mcp.io/created-secrets": json.dumps(["pg-mcp-made"])}}})
    assert ok("cluster_delete", name="pg", namespace=namespace, confirm="pg")["removes"][
        "secrets_created_by_this_server"] == ["pg-mcp-made"]
