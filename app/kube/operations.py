"""Day-2 operations as `kubectl cnpg` performs them (notes §6): annotations, status patches, pod deletion.

Only the fields, annotations and phase strings the plugin itself writes are used here; the
operator reacts to exactly those. Every write supports server-side dry run and impersonation.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any


from app.kube import cnpg, resources
from app.kube.session import KubeSession, dry

JSON = dict[str, Any]

# Annotations the operator watches (pkg/utils/labels_annotations.go).
ANNOTATION_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ANNOTATION_RELOADED_AT = "cnpg.io/reloadedAt"
ANNOTATION_HIBERNATION = "cnpg.io/hibernation"
ANNOTATION_FENCED_INSTANCES = "cnpg.io/fencedInstances"
FENCE_ALL = "*"

# Phases (api/v1/cluster_types.go) and the Ready condition the plugin sets with them.
PHASE_SWITCHOVER = "Switchover in progress"
PHASE_INPLACE_PRIMARY_RESTART = "Primary instance is being restarted in-place"
REASON_REQUESTED_BY_USER = "Requested by the user"
_NOT_READY = {"type": "Ready", "status": "False", "reason": "ClusterIsNotReady", "message": "Cluster Is Not Ready"}


def rfc3339_now() -> str:
    """Go's time.RFC3339 in UTC ("2026-01-02T15:04:05Z"), as `restart` writes it."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro_now() -> str:
    """metav1.RFC3339Micro in UTC ("2026-01-02T15:04:05.123456Z"), as `promote` and `reload` write it."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- cluster metadata and spec (merge patches of only the changed fields) ---------


def annotate_cluster(session: KubeSession, namespace: str, name: str, annotations: dict[str, str | None], *,
                     dry_run: bool) -> JSON:
    """Set annotations on a Cluster; a None value removes the annotation (merge-patch null)."""
    return session.patch(cnpg.CLUSTER, namespace, name, {"metadata": {"annotations": annotations}}, dry_run=dry_run)


def set_maintenance_window(session: KubeSession, namespace: str, name: str, *, in_progress: bool, reuse_pvc: bool,
                           dry_run: bool) -> JSON:
    """`kubectl cnpg maintenance set|unset`: both fields are always written, as the plugin does."""
    window = {"inProgress": in_progress, "reusePVC": reuse_pvc}
    return session.patch(cnpg.CLUSTER, namespace, name, {"spec": {"nodeMaintenanceWindow": window}}, dry_run=dry_run)


def fenced_instances(cluster: JSON) -> list[str] | None:
    """The fenced instance names from the annotation; None when its value is not a JSON list of strings."""
    raw = (cluster.get("metadata", {}).get("annotations") or {}).get(ANNOTATION_FENCED_INSTANCES)
    if raw is None:
        return []
    try:
        names = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return sorted(set(names))


def fenced_annotation(names: list[str]) -> str | None:
    """The annotation value for a set of fenced names: a sorted compact JSON array, or None (remove it)."""
    return json.dumps(sorted(set(names)), separators=(",", ":")) if names else None


# --- cluster status (optimistic locking, as status.PatchWithOptimisticLock) -------


def _not_ready_conditions(conditions: list[JSON] | None) -> list[JSON]:
    """The conditions with Ready set to False/ClusterIsNotReady (meta.SetStatusCondition semantics).

    A merge patch replaces lists whole, so every other condition is carried over unchanged;
    the transition time moves only when the status actually changes.
    """
    kept = [dict(c) for c in conditions or [] if c.get("type") != "Ready"]
    previous = next((c for c in conditions or [] if c.get("type") == "Ready"), None)
    ready = dict(_NOT_READY)
    if previous is not None and previous.get("status") == "False" and previous.get("lastTransitionTime"):
        ready["lastTransitionTime"] = previous["lastTransitionTime"]
    else:
        ready["lastTransitionTime"] = rfc3339_now()
    return [*kept, ready]


def request_switchover(session: KubeSession, namespace: str, name: str, pod: str, *, dry_run: bool) -> JSON:
    """`kubectl cnpg promote`: make `pod` the target primary; the operator then switches over.

    Returns the Cluster as patched (or as it already was when `pod` is already the target).
    """
    def change(cluster: JSON) -> JSON | None:
        status = cluster.get("status") or {}
        if status.get("targetPrimary") == pod:
            return None
        return {
            "targetPrimary": pod,
            "targetPrimaryTimestamp": rfc3339_micro_now(),
            "phase": PHASE_SWITCHOVER,
            "phaseReason": f"Switching over to {pod}",
            "conditions": _not_ready_conditions(status.get("conditions")),
        }

    return resources.patch_cluster_status(session, namespace, name, change, dry_run=dry_run)


def request_primary_restart(session: KubeSession, namespace: str, name: str, *, dry_run: bool) -> JSON:
    """`kubectl cnpg restart CLUSTER PRIMARY`: ask the operator to restart the primary in place."""
    def change(cluster: JSON) -> JSON:
        return {
            "phase": PHASE_INPLACE_PRIMARY_RESTART,
            "phaseReason": REASON_REQUESTED_BY_USER,
            "conditions": _not_ready_conditions((cluster.get("status") or {}).get("conditions")),
        }

    return resources.patch_cluster_status(session, namespace, name, change, dry_run=dry_run)


# --- pods ----------------------------------------------------------------------


def delete_pod(session: KubeSession, namespace: str, name: str, *, dry_run: bool) -> JSON:
    """Delete one instance Pod; the operator recreates it (a replica restart)."""
    return session.raw(f"delete pod {name!r} in {session.where(namespace)}", session.core().delete_namespaced_pod,
                       name, namespace, namespace=namespace, read=False, **dry(dry_run))
