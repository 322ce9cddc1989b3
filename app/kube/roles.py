"""Writes behind the role tools: the Cluster's managed roles under optimistic locking, and the
password Secrets this server creates. Secrets are only created, patched and deleted by name:
nothing here lists or returns their contents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


from app.kube import cnpg
from app.kube.errors import Conflict
from app.kube.session import KubeSession, dry

JSON = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"
# CloudNativePG reloads Secrets carrying this label as soon as they change (docs: declarative role management).
LABEL_RELOAD = "cnpg.io/reload"
SECRET_TYPE_BASIC_AUTH = "kubernetes.io/basic-auth"


def patch_cluster_locked(session: KubeSession, namespace: str, name: str, compute: Callable[[JSON], JSON], *,
                         current: JSON | None = None, dry_run: bool, attempts: int = 3) -> tuple[JSON, JSON]:
    """Merge-patch the Cluster with a patch computed from the object as read, under optimistic locking.

    `compute(cluster)` returns the merge patch (e.g. `{"spec": {"managed": {"roles": [...]}}}`);
    it may raise to refuse. The patch carries the `resourceVersion` it was computed from, so a
    concurrent writer makes it fail with Conflict instead of being overwritten (lists such as
    `managed.roles` are replaced whole by a merge patch); it is then recomputed from a fresh read,
    up to `attempts` times. `current` is a Cluster already read, used for the first attempt.

    Returns:
        (the Cluster the patch was computed from, the Cluster as patched).

    Raises:
        Conflict: the object kept changing; KubeError otherwise.
    """
    for attempt in range(attempts):
        cluster = current if current is not None and attempt == 0 else session.get(cnpg.CLUSTER, namespace, name)
        patch = compute(cluster)
        patch = {**patch, "metadata": {**patch.get("metadata", {}),
                                       "resourceVersion": cluster["metadata"]["resourceVersion"]}}
        try:
            return cluster, session.patch(cnpg.CLUSTER, namespace, name, patch, dry_run=dry_run)
        except Conflict:
            if attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def password_secret(namespace: str, name: str, cluster: JSON, username: str, password: str) -> JSON:
    """A basic-auth Secret for a role, owned by its Cluster (so it goes when the Cluster goes)."""
    meta = cluster["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE_BASIC_AUTH,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {LABEL_RELOAD: "true", cnpg.LABEL_CLUSTER: meta["name"], cnpg.LABEL_MANAGED_BY: cnpg.MANAGED_BY},
            # No blockOwnerDeletion: it would need update on clusters/finalizers where
            # OwnerReferencesPermissionEnforcement is on, and nothing here needs foreground deletion.
            "ownerReferences": [{"apiVersion": f"{cnpg.GROUP}/{cnpg.VERSION}", "kind": "Cluster",
                                 "name": meta["name"], "uid": meta["uid"]}],
        },
        "stringData": {"username": username, "password": password},
    }


def create_secret(session: KubeSession, namespace: str, body: JSON, *, dry_run: bool) -> None:
    """Create a Secret. The response (which echoes the data) is dropped, never returned."""
    name = body["metadata"]["name"]
    session.raw(f"create secret {name!r} in {session.where(namespace)}", session.core().create_namespaced_secret,
                namespace, body, namespace=namespace, read=False, **dry(dry_run))


def patch_secret(session: KubeSession, namespace: str, name: str, patch: JSON, *, dry_run: bool) -> None:
    """Merge-patch a Secret by name, without reading it first; the response is dropped."""
    # The generated client would pick json-patch for core objects; a dict body is a merge patch.
    session.raw(f"update secret {name!r} in {session.where(namespace)}", session.core().patch_namespaced_secret,
                name, namespace, patch, namespace=namespace, read=False, _content_type=MERGE_PATCH, **dry(dry_run))
