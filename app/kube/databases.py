"""CloudNativePG `Database` objects (declarative databases): one API call per function."""

from __future__ import annotations

from typing import Any

import kubernetes

from app.kube import cnpg
from app.kube.access import Identity, KubeAccess

JSON = dict[str, Any]
DATABASES = "databases"


def _custom(access: KubeAccess) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(access.api_client())


def _dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "All"} if dry_run else {}


def list_databases(access: KubeAccess, namespace: str, identity: Identity | None = None) -> list[JSON]:
    found = access.call(f"list databases in namespace {namespace!r}", _custom(access).list_namespaced_custom_object,
                        cnpg.GROUP, cnpg.VERSION, namespace, DATABASES, read=True, identity=identity)
    return list(found.get("items", []))


def get_database(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return access.call(f"get database {name!r} in namespace {namespace!r}",
                       _custom(access).get_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, DATABASES, name, read=True, identity=identity)


def create_database(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                    identity: Identity | None = None) -> JSON:
    name = body["metadata"]["name"]
    return access.call(f"create database {name!r} in namespace {namespace!r}",
                       _custom(access).create_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, DATABASES, body, read=False, identity=identity,
                       **_dry(dry_run))


def patch_database(access: KubeAccess, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                   identity: Identity | None = None) -> JSON:
    """JSON merge patch carrying only the changed fields."""
    return access.call(f"update database {name!r} in namespace {namespace!r}",
                       _custom(access).patch_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, DATABASES, name, patch, read=False, identity=identity,
                       **_dry(dry_run))


def delete_database(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                    identity: Identity | None = None) -> JSON:
    return access.call(f"delete database {name!r} in namespace {namespace!r}",
                       _custom(access).delete_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, DATABASES, name, read=False, identity=identity,
                       **_dry(dry_run))
