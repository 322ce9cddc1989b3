"""Backups and ScheduledBackups of CloudNativePG, each function one API call through `KubeAccess.call`.

Writes take `dry_run` (server-side dry run, "All") and `identity` (impersonation); updates
are merge patches carrying only the changed fields.
"""

from __future__ import annotations

from typing import Any


from app.kube import objects
from app.kube.access import Identity, KubeAccess

JSON = dict[str, Any]

BACKUPS = "backups"
SCHEDULED_BACKUPS = "scheduledbackups"
# Set by the operator on the Backups a ScheduledBackup creates (pkg/utils/labels_annotations.go).
LABEL_SCHEDULED_BACKUP = "cnpg.io/scheduled-backup"
# `kubectl cnpg hibernate on` sets it; the operator refuses to back up a hibernated cluster.
ANNOTATION_HIBERNATION = "cnpg.io/hibernation"

def _of_cluster(items: list[JSON], cluster: str | None) -> list[JSON]:
    # spec.cluster.name is the operator's own reference (required by the CRD); the
    # cnpg.io/cluster label is a convention that hand-written objects may lack.
    if cluster is None:
        return items
    return [item for item in items if ((item.get("spec") or {}).get("cluster") or {}).get("name") == cluster]


# --- backups -------------------------------------------------------------


def list_backups(access: KubeAccess, namespace: str, cluster: str | None = None,
                 identity: Identity | None = None, label_selector: str | None = None) -> list[JSON]:
    """Backups in `namespace`, only those of `cluster` (by spec.cluster.name) when given."""
    return _of_cluster(objects.list_objects(access, BACKUPS, namespace, identity, label_selector), cluster)


def get_backup(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return objects.get_object(access, BACKUPS, namespace, name, identity)


def create_backup(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    return objects.create_object(access, BACKUPS, namespace, body, dry_run=dry_run, identity=identity)


def delete_backup(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    return objects.delete_object(access, BACKUPS, namespace, name, dry_run=dry_run, identity=identity)


# --- scheduled backups ---------------------------------------------------


def list_scheduled_backups(access: KubeAccess, namespace: str, cluster: str | None = None,
                           identity: Identity | None = None) -> list[JSON]:
    """ScheduledBackups in `namespace`, only those of `cluster` (by spec.cluster.name) when given."""
    return _of_cluster(objects.list_objects(access, SCHEDULED_BACKUPS, namespace, identity), cluster)


def get_scheduled_backup(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return objects.get_object(access, SCHEDULED_BACKUPS, namespace, name, identity)


def create_scheduled_backup(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                            identity: Identity | None = None) -> JSON:
    return objects.create_object(access, SCHEDULED_BACKUPS, namespace, body, dry_run=dry_run, identity=identity)


def patch_scheduled_backup(access: KubeAccess, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                           identity: Identity | None = None) -> JSON:
    return objects.patch_object(access, SCHEDULED_BACKUPS, namespace, name, patch, dry_run=dry_run,
                                identity=identity)


def delete_scheduled_backup(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                            identity: Identity | None = None) -> JSON:
    return objects.delete_object(access, SCHEDULED_BACKUPS, namespace, name, dry_run=dry_run, identity=identity)
