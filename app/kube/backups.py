"""Backups and ScheduledBackups of CloudNativePG, each function one API call through `KubeAccess.call`.

Writes take `dry_run` (server-side dry run, "All") and `identity` (impersonation); updates
are merge patches carrying only the changed fields.
"""

from __future__ import annotations

from typing import Any

import kubernetes

from app.kube import cnpg
from app.kube.access import Identity, KubeAccess

JSON = dict[str, Any]

BACKUPS = "backups"
SCHEDULED_BACKUPS = "scheduledbackups"
# Set by the operator on the Backups a ScheduledBackup creates (pkg/utils/labels_annotations.go).
LABEL_SCHEDULED_BACKUP = "cnpg.io/scheduled-backup"
# `kubectl cnpg hibernate on` sets it; the operator refuses to back up a hibernated cluster.
ANNOTATION_HIBERNATION = "cnpg.io/hibernation"

_KIND = {BACKUPS: "backup", SCHEDULED_BACKUPS: "scheduled backup"}


def _custom(access: KubeAccess) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(access.api_client())


def _dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "All"} if dry_run else {}


def _of_cluster(items: list[JSON], cluster: str | None) -> list[JSON]:
    # spec.cluster.name is the operator's own reference (required by the CRD); the
    # cnpg.io/cluster label is a convention that hand-written objects may lack.
    if cluster is None:
        return items
    return [item for item in items if ((item.get("spec") or {}).get("cluster") or {}).get("name") == cluster]


def _list(access: KubeAccess, plural: str, namespace: str, identity: Identity | None,
          label_selector: str | None = None) -> list[JSON]:
    options = {"label_selector": label_selector} if label_selector else {}
    found = access.call(f"list {_KIND[plural]}s in namespace {namespace!r}",
                        _custom(access).list_namespaced_custom_object,
                        cnpg.GROUP, cnpg.VERSION, namespace, plural, read=True, identity=identity, **options)
    return list(found.get("items", []))


def _get(access: KubeAccess, plural: str, namespace: str, name: str, identity: Identity | None) -> JSON:
    return access.call(f"get {_KIND[plural]} {name!r} in namespace {namespace!r}",
                       _custom(access).get_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, plural, name, read=True, identity=identity)


def _create(access: KubeAccess, plural: str, namespace: str, body: JSON, dry_run: bool,
            identity: Identity | None) -> JSON:
    name = body["metadata"]["name"]
    return access.call(f"create {_KIND[plural]} {name!r} in namespace {namespace!r}",
                       _custom(access).create_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, plural, body, read=False, identity=identity,
                       **_dry(dry_run))


def _delete(access: KubeAccess, plural: str, namespace: str, name: str, dry_run: bool,
            identity: Identity | None) -> JSON:
    return access.call(f"delete {_KIND[plural]} {name!r} in namespace {namespace!r}",
                       _custom(access).delete_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, plural, name, read=False, identity=identity,
                       **_dry(dry_run))


# --- backups -------------------------------------------------------------


def list_backups(access: KubeAccess, namespace: str, cluster: str | None = None,
                 identity: Identity | None = None, label_selector: str | None = None) -> list[JSON]:
    """Backups in `namespace`, only those of `cluster` (by spec.cluster.name) when given."""
    return _of_cluster(_list(access, BACKUPS, namespace, identity, label_selector), cluster)


def get_backup(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return _get(access, BACKUPS, namespace, name, identity)


def create_backup(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    return _create(access, BACKUPS, namespace, body, dry_run, identity)


def delete_backup(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    return _delete(access, BACKUPS, namespace, name, dry_run, identity)


# --- scheduled backups ---------------------------------------------------


def list_scheduled_backups(access: KubeAccess, namespace: str, cluster: str | None = None,
                           identity: Identity | None = None) -> list[JSON]:
    """ScheduledBackups in `namespace`, only those of `cluster` (by spec.cluster.name) when given."""
    return _of_cluster(_list(access, SCHEDULED_BACKUPS, namespace, identity), cluster)


def get_scheduled_backup(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return _get(access, SCHEDULED_BACKUPS, namespace, name, identity)


def create_scheduled_backup(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                            identity: Identity | None = None) -> JSON:
    return _create(access, SCHEDULED_BACKUPS, namespace, body, dry_run, identity)


def patch_scheduled_backup(access: KubeAccess, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                           identity: Identity | None = None) -> JSON:
    """JSON merge patch carrying only the changed fields (never a whole, possibly stale, object)."""
    return access.call(f"update scheduled backup {name!r} in namespace {namespace!r}",
                       _custom(access).patch_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, SCHEDULED_BACKUPS, name, patch, read=False,
                       identity=identity, **_dry(dry_run))


def delete_scheduled_backup(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                            identity: Identity | None = None) -> JSON:
    return _delete(access, SCHEDULED_BACKUPS, namespace, name, dry_run, identity)
