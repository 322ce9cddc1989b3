"""CloudNativePG `Pooler` objects (PgBouncer deployments)."""

from __future__ import annotations

from app.kube import objects
from app.kube.access import Identity, KubeAccess
from app.kube.objects import JSON

POOLERS = "poolers"


def list_poolers(access: KubeAccess, namespace: str, identity: Identity | None = None) -> list[JSON]:
    """Every Pooler in the namespace. A Pooler names its cluster only in `spec.cluster.name`
    (no label, and CRD spec fields are not selectable), so callers filter the result."""
    return objects.list_objects(access, POOLERS, namespace, identity)


def get_pooler(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return objects.get_object(access, POOLERS, namespace, name, identity)


def create_pooler(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                 identity: Identity | None = None) -> JSON:
    return objects.create_object(access, POOLERS, namespace, body, dry_run=dry_run, identity=identity)


def patch_pooler(access: KubeAccess, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                identity: Identity | None = None) -> JSON:
    return objects.patch_object(access, POOLERS, namespace, name, patch, dry_run=dry_run, identity=identity)


def delete_pooler(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                 identity: Identity | None = None) -> JSON:
    return objects.delete_object(access, POOLERS, namespace, name, dry_run=dry_run, identity=identity)
