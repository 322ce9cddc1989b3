"""CloudNativePG `Database` objects (declarative databases)."""

from __future__ import annotations

from app.kube import objects
from app.kube.access import Identity, KubeAccess
from app.kube.objects import JSON

DATABASES = "databases"


def list_databases(access: KubeAccess, namespace: str, identity: Identity | None = None) -> list[JSON]:
    """Every Database object in the namespace; callers filter on spec.cluster.name."""
    return objects.list_objects(access, DATABASES, namespace, identity)


def get_database(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return objects.get_object(access, DATABASES, namespace, name, identity)


def create_database(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                   identity: Identity | None = None) -> JSON:
    return objects.create_object(access, DATABASES, namespace, body, dry_run=dry_run, identity=identity)


def patch_database(access: KubeAccess, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    return objects.patch_object(access, DATABASES, namespace, name, patch, dry_run=dry_run, identity=identity)


def delete_database(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                   identity: Identity | None = None) -> JSON:
    return objects.delete_object(access, DATABASES, namespace, name, dry_run=dry_run, identity=identity)
