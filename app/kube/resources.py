"""Reads and writes with real logic beyond one generic call: status patches under optimistic
locking, and the core objects (namespaces, pods, events, secrets) the tools need.

Every call goes through the caller's `KubeSession`; core lists are read as raw JSON (no typed
models) because deserializing hundreds of Pods into models is the slow part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.kube import cnpg
from app.kube.errors import Conflict, Forbidden, NotFound
from app.kube.session import KubeSession, dry

JSON = dict[str, Any]


def patch_cluster_status(session: KubeSession, namespace: str, name: str,
                         change: Callable[[JSON], JSON | None], *, dry_run: bool = False, attempts: int = 3) -> JSON:
    """Merge-patch the Cluster's /status with optimistic locking, as `kubectl cnpg` does.

    `change(cluster)` returns the status fields to set (or None when nothing needs to change).
    The patch carries the `resourceVersion` it was computed from, so a concurrent writer (the
    operator) makes it fail with Conflict instead of being overwritten; it is then recomputed
    from a fresh read, up to `attempts` times.

    Raises:
        Conflict: the object kept changing; KubeError otherwise.
    """
    for attempt in range(attempts):
        cluster = session.get(cnpg.CLUSTER, namespace, name)
        fields = change(cluster)
        if fields is None:
            return cluster
        patch = {"metadata": {"resourceVersion": cluster["metadata"]["resourceVersion"]}, "status": fields}
        try:
            return session.patch_status(cnpg.CLUSTER, namespace, name, patch, dry_run=dry_run)
        except Conflict:
            if attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# --- core objects --------------------------------------------------------


def namespace_exists(session: KubeSession, namespace: str) -> bool:
    """False only when the API says the namespace is missing.

    A server bound per namespace (RoleBindings) may not read Namespace objects;
    then the answer is unknown and the real call reports what is wrong.
    """
    try:
        session.raw(f"get namespace {namespace!r}", session.core().read_namespace, namespace, namespace=namespace)
    except NotFound:
        return False
    except Forbidden:
        return True
    return True


def get_pod(session: KubeSession, namespace: str, name: str) -> JSON:
    return session.raw(f"get pod {name!r} in {session.where(namespace)}", session.core().read_namespaced_pod,
                       name, namespace, namespace=namespace)


def list_pods(session: KubeSession, namespace: str, label_selector: str) -> list[JSON]:
    found = session.raw(f"list pods in {session.where(namespace)}", session.core().list_namespaced_pod, namespace,
                        label_selector=label_selector, namespace=namespace)
    return list(found.get("items", []))


def list_events(session: KubeSession, namespace: str, kind: str, name: str) -> list[JSON]:
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    found = session.raw(f"list events in {session.where(namespace)}", session.core().list_namespaced_event,
                        namespace, field_selector=selector, namespace=namespace)
    return list(found.get("items", []))


def delete_secret(session: KubeSession, namespace: str, name: str, *, dry_run: bool) -> None:
    session.raw(f"delete secret {name!r} in {session.where(namespace)}", session.core().delete_namespaced_secret,
                name, namespace, namespace=namespace, read=False, **dry(dry_run))
