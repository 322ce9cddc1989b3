"""Roles tools, as the server's ServiceAccount."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes

CLUSTER = "pg-roles"


def exercise(ok: Callable[..., dict[str, Any]], admin_api: kubernetes.client.ApiClient, namespace: str) -> None:
    kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", namespace, "clusters",
        {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": CLUSTER},
         "spec": {"instances": 1, "storage": {"size": "1Gi"}}})
    where = {"cluster": CLUSTER, "namespace": namespace}
    ok("role_create", **where, name="alice", dry_run=True)
    assert ok("role_create", **where, name="alice")["password_secret"] == "pg-roles-role-alice"  # secrets: create
    ok("role_create", **where, name="bob", password="none")
    assert [r["name"] for r in ok("role_list", **where)["roles"]] == ["alice", "bob"]
    ok("role_update", **where, name="alice", createdb=True, rotate_password=True)  # secrets: patch
    ok("role_update", **where, name="bob", rotate_password=True)  # a first password: secrets create
    assert ok("role_delete", **where, name="alice", confirm="alice")["password_secret_deleted"]  # secrets: delete
    ok("role_delete", **where, name="bob", confirm="bob", remove_from_spec=True)
