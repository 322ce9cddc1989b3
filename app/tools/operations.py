"""Day-2 operations, done the way `kubectl cnpg` does them: switchover, restart, reload,
hibernation, fencing and node maintenance (notes §6). The operator carries each one out;
these tools only write the fields and annotations it watches."""

from __future__ import annotations

from typing import Any

from app.kube import NotFound, cnpg, resources
from app.kube import operations as ops
from app.tools.clusters import get_cluster_or_explain, pod_ready
from app.tools.common import (
    CLUSTER_NAME,
    DRY_RUN,
    NAMESPACE,
    confirmation,
    nullable,
    obj,
    require_confirmation,
)
from app.tools.context import ToolContext
from app.tools.errors import ToolError
from app.tools.spec import ToolHints, ToolSpec

_DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
INSTANCE = {
    "type": "string", "pattern": f"^{_DNS_LABEL}$", "maxLength": 63,
    "description": "Instance pod name (e.g. pg-main-2), or just its number N meaning <cluster>-N",
}
FENCE_TARGET = {
    "type": "string", "pattern": rf"^(\*|{_DNS_LABEL})$", "maxLength": 63,
    "description": "Instance pod name, its number N meaning <cluster>-N, or * for every instance",
}

_STRING = {"type": "string"}
_BASE = {"name": _STRING, "namespace": _STRING, "dry_run": {"type": "boolean"}}
_BASE_REQUIRED = ["name", "namespace", "dry_run"]


def _instance(cluster: str, instance: str) -> str:
    """`kubectl cnpg` accepts a bare number for `<cluster>-N`."""
    return f"{cluster}-{instance}" if instance.isdigit() else instance


def _status(cluster: dict[str, Any]) -> dict[str, Any]:
    return cluster.get("status") or {}


def _annotation(cluster: dict[str, Any], key: str) -> str | None:
    return (cluster.get("metadata", {}).get("annotations") or {}).get(key)


def _known_instances(cluster: dict[str, Any]) -> str:
    names = _status(cluster).get("instanceNames") or []
    return f"instances of cluster {cluster['metadata']['name']!r}: {', '.join(names)}" if names else (
        f"cluster {cluster['metadata']['name']!r} reports no instances yet")


def _instance_pod(ctx: ToolContext, cluster: dict[str, Any], pod_name: str) -> dict[str, Any]:
    """The instance Pod, checked to be one of this cluster's instances (never any other pod)."""
    namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
    try:
        pod = resources.get_pod(ctx.kube, namespace, pod_name)
    except NotFound:
        raise ToolError(f"Pod {pod_name!r} not found in namespace {namespace!r}; {_known_instances(cluster)}") from None
    labels = pod.get("metadata", {}).get("labels") or {}
    # Instance pods carry their own name as instanceName; job pods of the same instance do not.
    if labels.get(cnpg.LABEL_CLUSTER) != name or labels.get(cnpg.LABEL_INSTANCE_NAME) != pod_name:
        raise ToolError(f"Pod {pod_name!r} is not an instance of cluster {name!r}; {_known_instances(cluster)}")
    return pod


def _fenced(cluster: dict[str, Any]) -> list[str]:
    names = ops.fenced_instances(cluster)
    if names is None:
        raise ToolError(
            f"The {ops.ANNOTATION_FENCED_INSTANCES} annotation of cluster {cluster['metadata']['name']!r} is not "
            "a JSON list of instance names; fix or remove it before fencing or unfencing"
        )
    return names


# --- cluster_switchover -----------------------------------------------------


def _switchover_objections(status: dict[str, Any], pod: dict[str, Any]) -> list[str]:
    """Why `pod` is not a safe switchover target; force overrides these."""
    pod_name = pod["metadata"]["name"]
    objections = []
    if status.get("currentPrimary") == pod_name:
        objections.append(
            f"{pod_name} is the current primary (a switchover to {status.get('targetPrimary')} is under way)")
    if pod_name not in (status.get("instanceNames") or []):
        objections.append(f"{pod_name} is not listed in status.instanceNames")
    if not pod_ready(pod):
        objections.append(f"the Pod {pod_name} is not Ready")
    return objections


def _switchover(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    pod_name = _instance(name, args["instance"])
    force, dry_run = bool(args.get("force", False)), args["dry_run"]
    cluster = get_cluster_or_explain(ctx, namespace, name)
    status = _status(cluster)
    result = {"name": name, "namespace": namespace, "dry_run": dry_run,
              "previous_primary": status.get("currentPrimary"), "target_primary": pod_name}
    if status.get("targetPrimary") == pod_name:
        return {**result, "changed": False, "overridden": [], "phase": status.get("phase"),
                "phase_reason": status.get("phaseReason"),
                "note": f"{pod_name} is already the target primary; nothing to do."}
    fenced = _fenced(cluster)
    if pod_name in fenced or ops.FENCE_ALL in fenced:
        raise ToolError(f"{pod_name} is fenced and cannot be promoted; unfence it first with cluster_unfence")
    objections = _switchover_objections(status, _instance_pod(ctx, cluster, pod_name))
    if objections and not force:
        raise ToolError(
            f"Refusing to switch over to {pod_name}: {'; '.join(objections)}. Pick a ready replica "
            "(see cluster_get), or set force=true to promote it anyway."
        )
    # Confirmed once the objections are known (only reads so far), so the question names what force overrides.
    overriding = f", overriding: {'; '.join(objections)}" if objections else ""
    require_confirmation(ctx, args, pod_name, f"switch cluster {name!r} over to {pod_name!r}{overriding}")
    patched = _status(ops.request_switchover(ctx.kube, namespace, name, pod_name, dry_run=dry_run))
    return {**result, "changed": True, "overridden": objections, "phase": patched.get("phase"),
            "phase_reason": patched.get("phaseReason"),
            "note": "The operator now demotes the current primary and promotes the target; follow with cluster_get."}


CLUSTER_SWITCHOVER = ToolSpec(
    name="cluster_switchover",
    title="Switch over to another instance",
    description=(
        "Promote a replica to primary (a planned switchover, like `kubectl cnpg promote`): the operator demotes "
        "the current primary and promotes the chosen instance. Refused unless the target is a ready replica "
        "(force overrides that check); requires confirm equal to the target pod name."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE, "instance": INSTANCE,
         "force": {"type": "boolean", "default": False,
                   "description": "Promote even if the target is not a ready replica (risky)"},
         "confirm": confirmation("Repeat the target instance pod name (e.g. pg-main-2) to confirm"),
         "dry_run": DRY_RUN},
        ["name", "namespace", "instance", "confirm"],
    ),
    output_schema=obj(
        {**_BASE, "changed": {"type": "boolean"}, "previous_primary": nullable(_STRING), "target_primary": _STRING,
         "phase": nullable(_STRING), "phase_reason": nullable(_STRING),
         "overridden": {"type": "array", "items": _STRING}, "note": _STRING},
        [*_BASE_REQUIRED, "changed", "previous_primary", "target_primary", "phase", "overridden"],
    ),
    hints=ToolHints(read_only=False, destructive=True, idempotent=True, open_world=False),
    handler=_switchover,
)


# --- cluster_restart --------------------------------------------------------


def _restart(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    dry_run = args["dry_run"]
    kube = ctx.kube
    base = {"name": name, "namespace": namespace, "dry_run": dry_run}
    if args.get("instance") is None:
        require_confirmation(ctx, args, name, f"restart every instance of cluster {name!r}")
        get_cluster_or_explain(ctx, namespace, name)
        patch = {ops.ANNOTATION_RESTARTED_AT: ops.rfc3339_now()}
        ops.annotate_cluster(kube, namespace, name, patch, dry_run=dry_run)
        return {**base, "instance": None, "method": "rolling_restart", "annotations": patch,
                "note": "The operator restarts the replicas one by one, then the primary as "
                        "spec.primaryUpdateMethod says (switchover or in-place restart)."}
    pod_name = _instance(name, args["instance"])
    require_confirmation(ctx, args, pod_name, f"restart instance {pod_name!r} of cluster {name!r}")
    cluster = get_cluster_or_explain(ctx, namespace, name)
    if _status(cluster).get("currentPrimary") == pod_name:
        patched = _status(ops.request_primary_restart(kube, namespace, name, dry_run=dry_run))
        return {**base, "instance": pod_name, "method": "in_place_primary_restart", "phase": patched.get("phase"),
                "note": "The operator restarts PostgreSQL on the primary in place (no switchover)."}
    _instance_pod(ctx, cluster, pod_name)
    ops.delete_pod(kube, namespace, pod_name, dry_run=dry_run)
    return {**base, "instance": pod_name, "method": "pod_recreated",
            "note": f"Pod {pod_name} was deleted; the operator recreates it on the same volume."}


CLUSTER_RESTART = ToolSpec(
    name="cluster_restart",
    title="Restart a cluster or one instance",
    description=(
        "Restart PostgreSQL like `kubectl cnpg restart`: without instance, a rolling restart of the whole cluster; "
        "with instance, the primary restarts in place and a replica's pod is deleted and recreated. "
        "Requires confirm equal to the cluster name (whole cluster) or the instance pod name."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE,
         "instance": {**INSTANCE, "description": "Restart only this instance (pod name, or N for <cluster>-N)"},
         "confirm": confirmation("Repeat the cluster name, or the instance pod name when instance is given"),
         "dry_run": DRY_RUN},
        ["name", "namespace", "confirm"],
    ),
    output_schema=obj(
        {**_BASE, "instance": nullable(_STRING),
         "method": {"type": "string", "enum": ["rolling_restart", "in_place_primary_restart", "pod_recreated"]},
         "annotations": {"type": "object", "additionalProperties": _STRING}, "phase": nullable(_STRING),
         "note": _STRING},
        [*_BASE_REQUIRED, "instance", "method", "note"],
    ),
    hints=ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False),
    handler=_restart,
)


# --- cluster_reload ---------------------------------------------------------


def _reload(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    dry_run = args["dry_run"]
    get_cluster_or_explain(ctx, namespace, name)
    patch = {ops.ANNOTATION_RELOADED_AT: ops.rfc3339_micro_now()}
    ops.annotate_cluster(ctx.kube, namespace, name, patch, dry_run=dry_run)
    return {"name": name, "namespace": namespace, "dry_run": dry_run, "annotations": patch,
            "note": "The operator re-reads secrets, config maps and certificates and reloads PostgreSQL configuration."}


CLUSTER_RELOAD = ToolSpec(
    name="cluster_reload",
    title="Reload cluster configuration",
    description=(
        "Ask the operator to reconcile and reload the configuration of every instance without restarting them "
        "(like `kubectl cnpg reload`). Use it after changing secrets, config maps or certificates the cluster uses."
    ),
    input_schema=obj({"name": CLUSTER_NAME, "namespace": NAMESPACE, "dry_run": DRY_RUN}, ["name", "namespace"]),
    output_schema=obj(
        {**_BASE, "annotations": {"type": "object", "additionalProperties": _STRING}, "note": _STRING},
        [*_BASE_REQUIRED, "annotations"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
    handler=_reload,
)


# --- cluster_hibernate / cluster_resume -------------------------------------


def _set_hibernation(args: dict[str, Any], ctx: ToolContext, value: str) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    if value == "on":
        require_confirmation(ctx, args, name, f"hibernate cluster {name!r}")
    dry_run = args["dry_run"]
    previous = _annotation(get_cluster_or_explain(ctx, namespace, name), ops.ANNOTATION_HIBERNATION)
    if value == "on" and previous == "on":
        raise ToolError(f"Cluster {name!r} is already hibernated; use cluster_resume to bring it back")
    if value == "off" and previous != "on":
        raise ToolError(f"Cluster {name!r} is not hibernated; nothing to resume")
    patch = {ops.ANNOTATION_HIBERNATION: value}
    ops.annotate_cluster(ctx.kube, namespace, name, patch, dry_run=dry_run)
    note = ("The operator deletes the instance pods and keeps their volumes; follow with cluster_get."
            if value == "on" else "The operator recreates the instances from their volumes; follow with cluster_get.")
    return {"name": name, "namespace": namespace, "dry_run": dry_run, "hibernation": value,
            "previous": previous, "annotations": patch, "note": note}


def _hibernate(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return _set_hibernation(args, ctx, "on")


def _resume(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return _set_hibernation(args, ctx, "off")


_HIBERNATION_OUTPUT = obj(
    {**_BASE, "hibernation": {"type": "string", "enum": ["on", "off"]}, "previous": nullable(_STRING),
     "annotations": {"type": "object", "additionalProperties": _STRING}, "note": _STRING},
    [*_BASE_REQUIRED, "hibernation", "previous", "annotations"],
)

CLUSTER_HIBERNATE = ToolSpec(
    name="cluster_hibernate",
    title="Hibernate a cluster",
    description=(
        "Shut a cluster down (declarative hibernation, cnpg.io/hibernation=on): the operator removes every "
        "instance pod but keeps the volumes, so the database is unavailable until cluster_resume. "
        "Requires confirm equal to the cluster name."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE,
         "confirm": confirmation("Repeat the cluster name to confirm the hibernation"), "dry_run": DRY_RUN},
        ["name", "namespace", "confirm"],
    ),
    output_schema=_HIBERNATION_OUTPUT,
    hints=ToolHints(read_only=False, destructive=True, idempotent=True, open_world=False),
    handler=_hibernate,
)

CLUSTER_RESUME = ToolSpec(
    name="cluster_resume",
    title="Resume a hibernated cluster",
    description=(
        "Bring a hibernated cluster back (cnpg.io/hibernation=off): the operator recreates its instances from "
        "the kept volumes. Refused if the cluster is not hibernated."
    ),
    input_schema=obj({"name": CLUSTER_NAME, "namespace": NAMESPACE, "dry_run": DRY_RUN}, ["name", "namespace"]),
    output_schema=_HIBERNATION_OUTPUT,
    hints=ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False),
    handler=_resume,
)


# --- cluster_fence / cluster_unfence ----------------------------------------


def _fencing_result(args: dict[str, Any], target: str, changed: bool, fenced: list[str], note: str) -> dict[str, Any]:
    return {"name": args["name"], "namespace": args["namespace"], "dry_run": args["dry_run"],
            "instance": target, "changed": changed, "fenced_instances": fenced, "note": note}


def _write_fenced(args: dict[str, Any], ctx: ToolContext, names: list[str]) -> list[str]:
    patched = ops.annotate_cluster(ctx.kube, args["namespace"], args["name"],
                                   {ops.ANNOTATION_FENCED_INSTANCES: ops.fenced_annotation(names)},
                                   dry_run=args["dry_run"])
    return ops.fenced_instances(patched) or []


def _fence(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    target = _instance(name, args["instance"])
    what = "every instance" if target == ops.FENCE_ALL else repr(target)
    require_confirmation(ctx, args, target, f"fence {what} of cluster {name!r}")
    cluster = get_cluster_or_explain(ctx, namespace, name)
    if target != ops.FENCE_ALL and target not in (_status(cluster).get("instanceNames") or []):
        raise ToolError(f"{target!r} is not an instance of cluster {name!r}; {_known_instances(cluster)}")
    fenced = _fenced(cluster)
    if ops.FENCE_ALL in fenced or target in fenced:
        return _fencing_result(args, target, False, fenced, f"{target} is already fenced; nothing to do.")
    wanted = [ops.FENCE_ALL] if target == ops.FENCE_ALL else [*fenced, target]
    return _fencing_result(args, target, True, _write_fenced(args, ctx, wanted),
                           "The operator stops PostgreSQL on fenced instances; their pods stay, not Ready.")


def _unfence(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    target = _instance(name, args["instance"])
    fenced = _fenced(get_cluster_or_explain(ctx, namespace, name))
    if target == ops.FENCE_ALL:
        wanted: list[str] = []
    elif ops.FENCE_ALL in fenced:
        raise ToolError(
            f"Every instance of cluster {name!r} is fenced ('*'): unfencing only {target} is not supported. "
            "Unfence '*' instead, then fence the instances that should stay fenced."
        )
    else:
        wanted = [n for n in fenced if n != target]
    if wanted == fenced:
        return _fencing_result(args, target, False, fenced, f"{target} is not fenced; nothing to do.")
    return _fencing_result(args, target, True, _write_fenced(args, ctx, wanted),
                           "The operator starts PostgreSQL again on unfenced instances.")


_FENCING_OUTPUT = obj(
    {**_BASE, "instance": _STRING, "changed": {"type": "boolean"},
     "fenced_instances": {"type": "array", "items": _STRING}, "note": _STRING},
    [*_BASE_REQUIRED, "instance", "changed", "fenced_instances"],
)

CLUSTER_FENCE = ToolSpec(
    name="cluster_fence",
    title="Fence an instance",
    description=(
        "Fence one instance, or every instance with *: the operator stops PostgreSQL there but keeps the pod and "
        "its data (for investigation), so a fenced primary means the cluster accepts no writes. "
        "Requires confirm equal to the instance pod name (or *)."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE, "instance": FENCE_TARGET,
         "confirm": confirmation("Repeat the instance pod name (or *) to confirm"), "dry_run": DRY_RUN},
        ["name", "namespace", "instance", "confirm"],
    ),
    output_schema=_FENCING_OUTPUT,
    hints=ToolHints(read_only=False, destructive=True, idempotent=True, open_world=False),
    handler=_fence,
)

CLUSTER_UNFENCE = ToolSpec(
    name="cluster_unfence",
    title="Unfence an instance",
    description=(
        "Lift the fence from one instance, or from all with *: the operator starts PostgreSQL there again. "
        "A single instance cannot be unfenced while the whole cluster is fenced with *."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE, "instance": FENCE_TARGET, "dry_run": DRY_RUN},
        ["name", "namespace", "instance"],
    ),
    output_schema=_FENCING_OUTPUT,
    hints=ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False),
    handler=_unfence,
)


# --- cluster_maintenance ----------------------------------------------------


def _maintenance(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    in_progress, reuse_pvc = bool(args["in_progress"]), bool(args.get("reuse_pvc", False))
    if in_progress:
        require_confirmation(ctx, args, name, f"start a node maintenance window for cluster {name!r}")
    dry_run = args["dry_run"]
    window = (get_cluster_or_explain(ctx, namespace, name).get("spec", {}).get("nodeMaintenanceWindow")) or {}
    patched = ops.set_maintenance_window(ctx.kube, namespace, name, in_progress=in_progress, reuse_pvc=reuse_pvc,
                                         dry_run=dry_run)
    now = patched.get("spec", {}).get("nodeMaintenanceWindow") or {}
    return {"name": name, "namespace": namespace, "dry_run": dry_run,
            "previous_in_progress": window.get("inProgress"), "previous_reuse_pvc": window.get("reusePVC"),
            "in_progress": bool(now.get("inProgress", in_progress)), "reuse_pvc": bool(now.get("reusePVC", reuse_pvc))}


CLUSTER_MAINTENANCE = ToolSpec(
    name="cluster_maintenance",
    title="Set or end a node maintenance window",
    description=(
        "Declare that Kubernetes nodes hosting the cluster are under maintenance (in_progress=true) or no longer "
        "(false), like `kubectl cnpg maintenance set|unset`; during the window the operator lets nodes drain, and "
        "with reuse_pvc=false it recreates instances of drained nodes elsewhere instead of waiting for their "
        "volumes. Starting a window requires confirm equal to the cluster name."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE,
         "in_progress": {"type": "boolean", "description": "true to start the maintenance window, false to end it"},
         "reuse_pvc": {"type": "boolean", "default": False,
                       "description": "Wait for a drained node's volume to come back instead of recreating the "
                                      "instance elsewhere (the plugin's --reusePVC, default false)"},
         "confirm": confirmation("Repeat the cluster name to confirm (required when in_progress is true)"),
         "dry_run": DRY_RUN},
        ["name", "namespace", "in_progress"],
    ),
    output_schema=obj(
        {**_BASE, "previous_in_progress": nullable({"type": "boolean"}),
         "previous_reuse_pvc": nullable({"type": "boolean"}),
         "in_progress": {"type": "boolean"}, "reuse_pvc": {"type": "boolean"}},
        [*_BASE_REQUIRED, "previous_in_progress", "previous_reuse_pvc", "in_progress", "reuse_pvc"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False),
    handler=_maintenance,
)

OPERATIONS_TOOLS: list[ToolSpec] = [
    CLUSTER_SWITCHOVER, CLUSTER_RESTART, CLUSTER_RELOAD, CLUSTER_HIBERNATE, CLUSTER_RESUME, CLUSTER_FENCE,
    CLUSTER_UNFENCE, CLUSTER_MAINTENANCE,
]
