"""Poolers tools, as the server's ServiceAccount."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes

GROUP, VERSION = "postgresql.cnpg.io", "v1"


def exercise(ok: Callable[..., dict[str, Any]], admin_api: kubernetes.client.ApiClient, namespace: str) -> None:
    kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "clusters", {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "pg-pool"},
            "spec": {"instances": 1, "storage": {"size": "1Gi"}},
        })
    ok("pooler_create", cluster="pg-pool", namespace=namespace, dry_run=True)
    ok("pooler_create", cluster="pg-pool", namespace=namespace, parameters={"max_client_conn": "500"})
    assert ok("pooler_list", namespace=namespace, cluster="pg-pool")["count"] == 1
    assert ok("pooler_scale", name="pg-pool-pooler-rw", namespace=namespace, instances=2)["previous_instances"] == 1
    ok("pooler_delete", name="pg-pool-pooler-rw", namespace=namespace, confirm="pg-pool-pooler-rw")
    assert ok("pooler_list", namespace=namespace)["count"] == 0
