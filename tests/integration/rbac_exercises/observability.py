"""Observability tools, as the server's ServiceAccount."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes

from devenv.kubelet_sim import simulate_cluster_ready

GROUP, VERSION = "postgresql.cnpg.io", "v1"


def exercise(ok: Callable[..., dict[str, Any]], admin_api: kubernetes.client.ApiClient, namespace: str) -> None:
    kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "clusters", {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "pg-obs"},
            "spec": {"instances": 2, "storage": {"size": "1Gi"}},
        })
    simulate_cluster_ready(admin_api, namespace, "pg-obs")
    pods = ok("cluster_pods", name="pg-obs", namespace=namespace)["pods"]
    # The instances first, then the operator's (completed) bootstrap Job pod.
    assert [(p["component"], p["role"]) for p in pods] == [("instance", "primary"), ("instance", "replica"), ("job", None)]
    # Lists pods, PVCs, jobs, backups, poolers and events of the namespace.
    ok("cluster_events", name="pg-obs", namespace=namespace)
    # The simulated pods are on no node: the API answers an empty log, after checking pods/log access.
    assert ok("instance_logs", cluster="pg-obs", namespace=namespace, instance="pg-obs-1")["lines"] == []
    assert ok("cluster_connection_info", name="pg-obs", namespace=namespace)["secrets"]["application"] == "pg-obs-app"
