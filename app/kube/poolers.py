"""Reads and writes of CloudNativePG `Pooler` objects (PgBouncer deployments), each one call through `KubeAccess.call`."""

from __future__ import annotations

from typing import Any

import kubernetes

from app.kube import cnpg
from app.kube.access import Identity, KubeAccess

JSON = dict[str, Any]
POOLERS = "poolers"


def _custom(access: KubeAccess) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(access.api_client())


def _dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "All"} if dry_run else {}


def list_poolers(access: KubeAccess, namespace: str, identity: Identity | None = None) -> list[JSON]:
    """Every Pooler in the namespace. A Pooler names its cluster only in `spec.cluster.name`
    (no label, and CRD spec fields are not selectable), so callers filter the result."""
    found = access.call(f"list poolers in namespace {namespace!r}", _custom(access).list_namespaced_custom_object,
                        cnpg.GROUP, cnpg.VERSION, namespace, POOLERS, read=True, identity=identity)
    return list(found.get("items", []))


def get_pooler(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return access.call(f"get pooler {name!r} in namespace {namespace!r}", _custom(access).get_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, POOLERS, name, read=True, identity=identity)


def create_pooler(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    name = body["metadata"]["name"]
    return access.call(f"create pooler {name!r} in namespace {namespace!r}",
                       _custom(access).create_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, POOLERS, body, read=False, identity=identity,
                       **_dry(dry_run))


def patch_pooler(access: KubeAccess, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                 identity: Identity | None = None) -> JSON:
    """JSON merge patch carrying only the changed fields (a dict body is sent as a merge patch)."""
    return access.call(f"update pooler {name!r} in namespace {namespace!r}",
                       _custom(access).patch_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, POOLERS, name, patch, read=False, identity=identity,
                       **_dry(dry_run))


def delete_pooler(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    return access.call(f"delete pooler {name!r} in namespace {namespace!r}",
                       _custom(access).delete_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, POOLERS, name, read=False, identity=identity,
                       **_dry(dry_run))
