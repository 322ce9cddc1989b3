"""Reads and writes of the objects the tools need, each one API call through `KubeAccess.call`.

Custom objects come back as dicts; core lists are read as raw JSON (no typed
models) because deserializing hundreds of Pods into models is the slow part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


import kubernetes

from app.kube import cnpg, objects
from app.kube.access import Identity, KubeAccess
from app.kube.errors import Conflict, Forbidden, NotFound

JSON = dict[str, Any]


_custom, _core, _dry = objects.custom_api, objects.core_api, objects.dry


# --- clusters ------------------------------------------------------------


def list_clusters(access: KubeAccess, namespace: str | None, label_selector: str | None = None,
                  identity: Identity | None = None) -> list[JSON]:
    """Clusters in one namespace, or in every namespace when `namespace` is None."""
    options = {"label_selector": label_selector} if label_selector else {}
    if namespace is None:
        found = access.raw("list clusters in all namespaces", _custom(access).list_cluster_custom_object,
                           cnpg.GROUP, cnpg.VERSION, cnpg.CLUSTERS, read=True, identity=identity, **options)
    else:
        found = access.raw(f"list clusters in namespace {namespace!r}", _custom(access).list_namespaced_custom_object,
                           cnpg.GROUP, cnpg.VERSION, namespace, cnpg.CLUSTERS, read=True, identity=identity, **options)
    return list(found.get("items", []))


def get_cluster(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return objects.get_object(access, cnpg.CLUSTERS, namespace, name, identity)


def create_cluster(access: KubeAccess, namespace: str, body: JSON, *, dry_run: bool,
                   identity: Identity | None = None) -> JSON:
    return objects.create_object(access, cnpg.CLUSTERS, namespace, body, dry_run=dry_run, identity=identity)


def patch_cluster(access: KubeAccess, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    """JSON merge patch carrying only the changed fields (never a whole, possibly stale, object)."""
    return objects.patch_object(access, cnpg.CLUSTERS, namespace, name, patch, dry_run=dry_run, identity=identity)


def patch_cluster_status(access: KubeAccess, namespace: str, name: str,
                         change: Callable[[JSON], JSON | None], *, dry_run: bool = False,
                         identity: Identity | None = None, attempts: int = 3) -> JSON:
    """Merge-patch the Cluster's /status with optimistic locking, as `kubectl cnpg` does.

    `change(cluster)` returns the status fields to set (or None when nothing needs to change).
    The patch carries the `resourceVersion` it was computed from, so a concurrent writer (the
    operator) makes it fail with Conflict instead of being overwritten; it is then recomputed
    from a fresh read, up to `attempts` times.

    Raises:
        Conflict: the object kept changing; KubeError otherwise.
    """
    custom = _custom(access)
    for attempt in range(attempts):
        cluster = get_cluster(access, namespace, name, identity)
        fields = change(cluster)
        if fields is None:
            return cluster
        patch = {"metadata": {"resourceVersion": cluster["metadata"]["resourceVersion"]}, "status": fields}
        try:
            return access.call(f"update the status of cluster {name!r} in namespace {namespace!r}",
                               custom.patch_namespaced_custom_object_status,
                               cnpg.GROUP, cnpg.VERSION, namespace, cnpg.CLUSTERS, name, patch, read=False,
                               identity=identity, **_dry(dry_run))
        except Conflict:
            if attempt + 1 == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def delete_cluster(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                   identity: Identity | None = None) -> JSON:
    return objects.delete_object(access, cnpg.CLUSTERS, namespace, name, dry_run=dry_run, identity=identity)


def can_i(access: KubeAccess, verb: str, group: str, resource: str, namespace: str | None,
          identity: Identity | None = None) -> bool:
    """Ask the API server (SelfSubjectAccessReview, as `identity`) whether the caller may do it.

    Every authenticated user may create self-reviews, so this needs no extra RBAC.
    """
    attributes = {"verb": verb, "group": group, "resource": resource}
    if namespace is not None:
        attributes["namespace"] = namespace
    where = f"in namespace {namespace!r}" if namespace else "in all namespaces"
    review = access.raw(f"check whether the caller may {verb} {resource} {where}",
                        kubernetes.client.AuthorizationV1Api(access.api_client()).create_self_subject_access_review,
                        {"spec": {"resourceAttributes": attributes}}, read=True, identity=identity)
    return bool(review.get("status", {}).get("allowed"))


# --- core objects --------------------------------------------------------


def namespace_exists(access: KubeAccess, namespace: str, identity: Identity | None = None) -> bool:
    """False only when the API says the namespace is missing.

    A server bound per namespace (RoleBindings) may not read Namespace objects;
    then the answer is unknown and the real call reports what is wrong.
    """
    try:
        access.raw(f"get namespace {namespace!r}", _core(access).read_namespace, namespace, identity=identity)
    except NotFound:
        return False
    except Forbidden:
        return True
    return True


def get_pod(access: KubeAccess, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return access.raw(f"get pod {name!r} in namespace {namespace!r}", _core(access).read_namespaced_pod,
                      name, namespace, identity=identity)


def list_pods(access: KubeAccess, namespace: str, label_selector: str, identity: Identity | None = None) -> list[JSON]:
    found = access.raw(f"list pods in namespace {namespace!r}", _core(access).list_namespaced_pod, namespace,
                       label_selector=label_selector, identity=identity)
    return list(found.get("items", []))


def list_events(access: KubeAccess, namespace: str, kind: str, name: str,
                identity: Identity | None = None) -> list[JSON]:
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    found = access.raw(f"list events in namespace {namespace!r}", _core(access).list_namespaced_event, namespace,
                       field_selector=selector, identity=identity)
    return list(found.get("items", []))


def delete_secret(access: KubeAccess, namespace: str, name: str, *, dry_run: bool,
                  identity: Identity | None = None) -> None:
    access.raw(f"delete secret {name!r} in namespace {namespace!r}", _core(access).delete_namespaced_secret,
               name, namespace, read=False, identity=identity, **_dry(dry_run))
