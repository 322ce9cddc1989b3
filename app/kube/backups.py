"""Backups and ScheduledBackups of a cluster: the operator's labels, and lists filtered by cluster.

Single reads and writes are the generic `KubeSession` methods with `cnpg.BACKUP` /
`cnpg.SCHEDULED_BACKUP`.
"""

from __future__ import annotations

from typing import Any


from app.kube import cnpg
from app.kube.session import KubeSession

JSON = dict[str, Any]

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


def list_backups(session: KubeSession, namespace: str, cluster: str | None = None,
                 label_selector: str | None = None) -> list[JSON]:
    """Backups in `namespace`, only those of `cluster` (by spec.cluster.name) when given."""
    return _of_cluster(session.list(cnpg.BACKUP, namespace, label_selector=label_selector), cluster)


def list_scheduled_backups(session: KubeSession, namespace: str, cluster: str | None = None) -> list[JSON]:
    """ScheduledBackups in `namespace`, only those of `cluster` (by spec.cluster.name) when given."""
    return _of_cluster(session.list(cnpg.SCHEDULED_BACKUP, namespace), cluster)
