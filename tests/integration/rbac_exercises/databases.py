"""Databases tools, as the server's ServiceAccount."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes

CLUSTER = "pg-dbs"


def exercise(ok: Callable[..., dict[str, Any]], admin_api: kubernetes.client.ApiClient, namespace: str) -> None:
    kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", namespace, "clusters",
        {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": CLUSTER},
         "spec": {"instances": 1, "storage": {"size": "1Gi"}}})
    where = {"cluster": CLUSTER, "namespace": namespace}
    ok("database_create", **where, database="shop", owner="app", dry_run=True)
    ok("database_create", **where, database="shop", owner="app")
    ok("database_create", **where, database="scratch", owner="app")
    assert ok("database_list", **where)["count"] == 2
    assert ok("database_get", name="pg-dbs-shop", namespace=namespace)["database"] == "shop"
    ok("database_delete", name="pg-dbs-shop", namespace=namespace, mode="drop", confirm="pg-dbs-shop")
    ok("database_delete", name="pg-dbs-scratch", namespace=namespace, mode="delete_object", confirm="pg-dbs-scratch")
