"""Backups, scheduled backups and recovery into a new cluster.

A Backup object asks the operator for one base backup; a ScheduledBackup creates Backups on a
cron schedule; `cluster_restore` bootstraps a NEW cluster from a Backup or from a cluster's
object store (point in time). Everything is validated against what the operator would refuse
later (missing backup configuration, 5-field cron, target times outside the recoverable range),
so the model hears about it now rather than from a failed object hours later.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from app.kube import NotFound, cnpg, resources
from app.kube import backups as kb
from app.tools.clusters import IMAGE_REPOSITORY, _check_instances, _get_cluster, _summary
from app.tools.common import (
    CLUSTER_NAME,
    DRY_RUN,
    NAMESPACE,
    STORAGE_SIZE,
    age,
    check_namespace,
    confirmation,
    kube_of,
    nullable,
    obj,
    require_confirmation,
)
from app.tools.context import ToolContext
from app.tools.cron import CronError, validate_schedule
from app.tools.errors import ToolError
from app.tools.spec import ToolHints, ToolSpec

_READ = ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False)
_CREATE = ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False)
_TOGGLE = ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False)
_DELETE = ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False)

BARMAN, SNAPSHOT, PLUGIN = "barmanObjectStore", "volumeSnapshot", "plugin"
COMPLETED = "completed"

# DNS-1123 subdomain: what Kubernetes accepts for these object names.
OBJECT_NAME = {
    "type": "string", "maxLength": 253,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 1024}, "maxProperties": 50}
_TIME = nullable({"type": "string"})

# How a backup is taken; shared by backup_create and scheduled_backup_create.
_METHOD_ARGUMENTS: dict[str, Any] = {
    "method": {"type": "string", "enum": [BARMAN, SNAPSHOT, PLUGIN],
               "description": "barmanObjectStore (default: the cluster's spec.backup.barmanObjectStore), "
                              "volumeSnapshot (spec.backup.volumeSnapshot) or plugin (a backup plugin enabled "
                              "on the cluster)"},
    "target": {"type": "string", "enum": ["primary", "prefer-standby"],
               "description": "Instance to back up (default: the cluster's spec.backup.target, prefer-standby)"},
    "online": {"type": "boolean",
               "description": "volumeSnapshot only: hot (true) or cold (false, fences the instance) backup; "
                              "default from the cluster's spec.backup.volumeSnapshot.online"},
    "online_configuration": obj({
        "immediate_checkpoint": {"type": "boolean", "description": "Checkpoint immediately instead of spread out"},
        "wait_for_archive": {"type": "boolean", "description": "Wait until the WALs needed are archived"},
    }, description="volumeSnapshot only: how an online backup starts and ends"),
    "plugin_name": {"type": "string", "maxLength": 253, "pattern": r"^[^\s]+$",
                    "description": "method plugin only: the plugin, e.g. barman-cloud.cloudnative-pg.io"},
    "plugin_parameters": {**_STRING_MAP, "description": "method plugin only: parameters passed to the plugin"},
}


def _ts(value: str | None) -> datetime | None:
    """A Kubernetes RFC 3339 timestamp as an aware datetime; None when absent or unreadable."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _cluster_name(obj_: dict[str, Any]) -> str:
    return ((obj_.get("spec") or {}).get("cluster") or {}).get("name", "")


def _backup_conf(cluster: dict[str, Any]) -> dict[str, Any]:
    return (cluster.get("spec") or {}).get("backup") or {}


def _plugin_names(cluster: dict[str, Any]) -> list[str]:
    plugins = (cluster.get("spec") or {}).get("plugins") or []
    return sorted(p["name"] for p in plugins if p.get("name") and p.get("enabled", True))


def _available_methods(cluster: dict[str, Any]) -> str:
    conf = _backup_conf(cluster)
    methods = [m for m in (BARMAN, SNAPSHOT) if conf.get(m)]
    plugins = _plugin_names(cluster)
    if plugins:
        methods.append(f"plugin (plugin_name {' or '.join(plugins)})")
    return f"it supports: {', '.join(methods)}" if methods else "it has no backup configuration at all"


def _backup_spec(args: dict[str, Any], cluster: dict[str, Any]) -> dict[str, Any]:
    """The method-related spec of a Backup/ScheduledBackup, refusing what the operator would fail on."""
    name = cluster["metadata"]["name"]
    method = args.get("method")
    effective = method or BARMAN  # the CRD default
    plugin_args = [a for a in ("plugin_name", "plugin_parameters") if a in args]
    if effective != PLUGIN and plugin_args:
        raise ToolError(f"{' and '.join(plugin_args)} apply only with method plugin")
    if effective == PLUGIN:
        if not args.get("plugin_name"):
            raise ToolError("method plugin needs plugin_name (the backup plugin, e.g. barman-cloud.cloudnative-pg.io)")
        if args["plugin_name"] not in _plugin_names(cluster):
            raise ToolError(
                f"Cluster {name!r} does not enable plugin {args['plugin_name']!r} in spec.plugins; "
                f"{_available_methods(cluster)}"
            )
    elif not _backup_conf(cluster).get(effective):
        default = " (the default method)" if method is None else ""
        raise ToolError(
            f"Cluster {name!r} has no spec.backup.{effective} configured, so a {effective} backup{default} would "
            f"fail; {_available_methods(cluster)}. Choose another method, or configure {effective} on the cluster first"
        )
    if effective == BARMAN and ("online" in args or "online_configuration" in args):
        raise ToolError(
            "barmanObjectStore backups are always online (hot); online and online_configuration apply to "
            "volumeSnapshot (or plugin) backups"
        )
    spec: dict[str, Any] = {"cluster": {"name": name}}
    if method:
        spec["method"] = method
    if args.get("target"):
        spec["target"] = args["target"]
    if "online" in args:
        spec["online"] = args["online"]
    if args.get("online_configuration"):
        names = {"immediate_checkpoint": "immediateCheckpoint", "wait_for_archive": "waitForArchive"}
        spec["onlineConfiguration"] = {names[k]: v for k, v in args["online_configuration"].items()}
    if effective == PLUGIN:
        spec["pluginConfiguration"] = {"name": args["plugin_name"]}
        if args.get("plugin_parameters"):
            spec["pluginConfiguration"]["parameters"] = dict(args["plugin_parameters"])
    return spec


def _method(obj_: dict[str, Any]) -> str:
    return (obj_.get("status") or {}).get("method") or (obj_.get("spec") or {}).get("method") or BARMAN


def _not_found(kind: str, name: str, namespace: str, names: list[str], scope: str) -> ToolError:
    """`scope` is "there" (the namespace) or e.g. "of cluster 'pg'"."""
    listing = f"{kind}s {scope}: {', '.join(names)}" if names else f"no {kind}s {scope}"
    return ToolError(f"{kind.capitalize()} {name!r} not found in namespace {namespace!r}; {listing}")


def _get_backup(ctx: ToolContext, namespace: str, name: str, cluster: str | None = None) -> dict[str, Any]:
    """The Backup, or a not-found error naming the backups that exist (of `cluster`, if given)."""
    kube = kube_of(ctx)
    try:
        return kb.get_backup(kube, namespace, name, ctx.identity)
    except NotFound:
        if not resources.namespace_exists(kube, namespace, ctx.identity):
            raise ToolError(f"Namespace {namespace!r} does not exist") from None
        names = [b["metadata"]["name"] for b in _newest_first(kb.list_backups(kube, namespace, cluster, ctx.identity))]
        scope = f"of cluster {cluster!r}" if cluster else "there"
        raise _not_found("backup", name, namespace, names, scope) from None


def _newest_first(backups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def when(b: dict[str, Any]) -> datetime:
        stamp = (b.get("status") or {}).get("startedAt") or b["metadata"].get("creationTimestamp")
        return _ts(stamp) or datetime.min.replace(tzinfo=timezone.utc)

    return sorted(backups, key=lambda b: (when(b), b["metadata"]["name"]), reverse=True)


# --- backup_list -----------------------------------------------------------

# Status fields worth showing, when the operator has set them (output key → status key).
_DETAILS = {
    "backup_id": "backupId", "backup_name": "backupName", "server_name": "serverName",
    "destination_path": "destinationPath", "begin_wal": "beginWal", "end_wal": "endWal",
    "begin_lsn": "beginLSN", "end_lsn": "endLSN", "major_version": "majorVersion",
}

_BACKUP = obj(
    {
        "name": {"type": "string"}, "cluster": {"type": "string"}, "phase": {"type": "string"},
        "method": {"type": "string"}, "target": nullable({"type": "string"}), "online": nullable({"type": "boolean"}),
        "started_at": _TIME, "stopped_at": _TIME, "error": _TIME, "age": _TIME,
        "scheduled_backup": nullable({"type": "string"}),
        "details": {"type": "object", "description": "Status fields the operator reported (only those present)"},
    },
    ["name", "cluster", "phase", "method", "target", "online", "started_at", "stopped_at", "error", "details"],
)


def _backup_summary(backup: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = backup["metadata"], backup.get("spec") or {}, backup.get("status") or {}
    details: dict[str, Any] = {out: status[key] for out, key in _DETAILS.items() if status.get(key) not in (None, "")}
    if (status.get("instanceID") or {}).get("podName"):
        details["instance"] = status["instanceID"]["podName"]
    if (status.get("snapshotBackupStatus") or {}).get("elements"):
        details["volume_snapshots"] = [e.get("name") for e in status["snapshotBackupStatus"]["elements"]]
    if (spec.get("pluginConfiguration") or {}).get("name"):
        details["plugin"] = spec["pluginConfiguration"]["name"]
    online = status.get("online", spec.get("online"))
    return {
        "name": meta["name"],
        "cluster": _cluster_name(backup),
        "phase": status.get("phase") or "new (the operator has not reported on it yet)",
        "method": _method(backup),
        "target": spec.get("target"),
        "online": online if isinstance(online, bool) else None,
        "started_at": status.get("startedAt"),
        "stopped_at": status.get("stoppedAt"),
        "error": status.get("error") or None,
        "age": age(meta.get("creationTimestamp")),
        "scheduled_backup": (meta.get("labels") or {}).get(kb.LABEL_SCHEDULED_BACKUP),
        "details": details,
    }


def _backup_list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster = check_namespace(ctx, args["namespace"]), args.get("cluster")
    kube = kube_of(ctx)
    found = kb.list_backups(kube, namespace, cluster, ctx.identity)
    recoverability = None
    note = None
    if cluster is not None:
        try:
            status = resources.get_cluster(kube, namespace, cluster, ctx.identity).get("status") or {}
            recoverability = {"first_recoverability_point": status.get("firstRecoverabilityPoint"),
                              "last_successful_backup": status.get("lastSuccessfulBackup")}
        except NotFound:
            if not found:
                _get_cluster(ctx, namespace, cluster)  # raises: names the clusters (or the missing namespace)
            note = f"Cluster {cluster!r} no longer exists; its backups can still be restored with cluster_restore."
    elif not found and not resources.namespace_exists(kube, namespace, ctx.identity):
        raise ToolError(f"Namespace {namespace!r} does not exist")
    backups = [_backup_summary(b) for b in _newest_first(found)]
    result: dict[str, Any] = {"namespace": namespace, "cluster": cluster, "count": len(backups), "backups": backups,
                              "recoverability": recoverability}
    if note:
        result["note"] = note
    return result


BACKUP_LIST = ToolSpec(
    name="backup_list",
    title="List backups",
    description=(
        "List the Backup objects of a cluster (or of every cluster in the namespace), newest first, with phase, "
        "method, start/stop times, error and the backup ID and WAL range the operator reported. Use it to follow "
        "a backup_create and to pick a backup for cluster_restore."
    ),
    input_schema=obj(
        {"namespace": NAMESPACE,
         "cluster": {**CLUSTER_NAME, "description": "Only this cluster's backups (default: all in the namespace)"}},
        ["namespace"],
    ),
    output_schema=obj(
        {"namespace": {"type": "string"}, "cluster": nullable({"type": "string"}), "count": {"type": "integer"},
         "backups": {"type": "array", "items": _BACKUP},
         "recoverability": nullable(obj({"first_recoverability_point": _TIME, "last_successful_backup": _TIME})),
         "note": {"type": "string"}},
        ["namespace", "cluster", "count", "backups", "recoverability"],
    ),
    hints=_READ,
    handler=_backup_list,
)


# --- backup_create ---------------------------------------------------------


def _backup_create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster_name = check_namespace(ctx, args["namespace"]), args["cluster"]
    dry_run = bool(args.get("dry_run", False))
    cluster = _get_cluster(ctx, namespace, cluster_name)
    if ((cluster["metadata"].get("annotations") or {}).get(kb.ANNOTATION_HIBERNATION)) == "on":
        raise ToolError(f"Cluster {cluster_name!r} is hibernated; the operator refuses to back up a hibernated cluster")
    spec = _backup_spec(args, cluster)
    name = args.get("name") or f"{cluster_name}-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    body = {
        "apiVersion": f"{cnpg.GROUP}/{cnpg.VERSION}", "kind": "Backup",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {cnpg.LABEL_CLUSTER: cluster_name, cnpg.LABEL_MANAGED_BY: cnpg.MANAGED_BY}},
        "spec": spec,
    }
    created = kb.create_backup(kube_of(ctx), namespace, body, dry_run=dry_run, identity=ctx.identity)
    return {
        "created": not dry_run, "dry_run": dry_run, "name": name, "namespace": namespace, "cluster": cluster_name,
        "method": _method(created), "spec": created.get("spec", {}),
        "next_step": "The operator now takes the backup; follow its phase (running → completed or failed) "
                     "with backup_list.",
    }


BACKUP_CREATE = ToolSpec(
    name="backup_create",
    title="Take an on-demand backup",
    description=(
        "Ask the operator for a base backup of a cluster now (a Backup object named <cluster>-<UTC timestamp> "
        "unless name is given), with the cluster's object store, a volume snapshot or a backup plugin. Refused "
        "when the cluster lacks the configuration the method needs; follow progress with backup_list."
    ),
    input_schema=obj(
        {"cluster": CLUSTER_NAME, "namespace": NAMESPACE,
         "name": {**OBJECT_NAME, "description": "Backup object name (default <cluster>-<YYYYMMDDhhmmss> in UTC)"},
         **_METHOD_ARGUMENTS, "dry_run": DRY_RUN},
        ["cluster", "namespace"],
    ),
    output_schema=obj(
        {"created": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "name": {"type": "string"},
         "namespace": {"type": "string"}, "cluster": {"type": "string"}, "method": {"type": "string"},
         "spec": {"type": "object"}, "next_step": {"type": "string"}},
        ["created", "dry_run", "name", "namespace", "cluster", "method", "spec"],
    ),
    hints=_CREATE,
    handler=_backup_create,
)


# --- backup_delete ---------------------------------------------------------


def _what_happens_to_the_data(backup: dict[str, Any], cluster: dict[str, Any] | None) -> str:
    method = _method(backup)
    conf = _backup_conf(cluster) if cluster else {}
    if method == BARMAN:
        retention = conf.get("retentionPolicy")
        policy = (f"the cluster's retention policy ({retention}) removes them once they are obsolete" if retention
                  else "the cluster has no retention policy (spec.backup.retentionPolicy), so they stay until "
                       "removed by hand or a policy is set")
        return ("Only the Kubernetes object is removed: CloudNativePG does not delete the backup files in the "
                f"object store when a Backup object is deleted; {policy}. The backup stays usable for recovery "
                "from the object store (cluster_restore without backup), but no longer by name.")
    if method == SNAPSHOT:
        owner = ((conf.get(SNAPSHOT) or {}).get("snapshotOwnerReference")) or "none"
        fate = ("are owned by the Backup and are deleted with it (and their contents per the VolumeSnapshotContent "
                "deletionPolicy)" if owner == "backup"
                else f"are kept (snapshotOwnerReference is {owner!r}); delete them separately if they are not needed")
        return f"Only the Kubernetes object is removed; the VolumeSnapshots it created {fate}."
    return "Only the Kubernetes object is removed; what happens to the backup data is up to the backup plugin."


def _backup_delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = check_namespace(ctx, args["namespace"]), args["name"]
    require_confirmation(args, name, f"delete backup {name!r}")
    dry_run = bool(args.get("dry_run", False))
    kube = kube_of(ctx)
    backup = _get_backup(ctx, namespace, name)
    try:
        cluster = resources.get_cluster(kube, namespace, _cluster_name(backup), ctx.identity)
    except NotFound:
        cluster = None
    kb.delete_backup(kube, namespace, name, dry_run=dry_run, identity=ctx.identity)
    summary = _backup_summary(backup)
    return {
        "deleted": not dry_run, "dry_run": dry_run, "name": name, "namespace": namespace,
        "cluster": summary["cluster"], "method": summary["method"], "phase": summary["phase"],
        "data": _what_happens_to_the_data(backup, cluster),
    }


BACKUP_DELETE = ToolSpec(
    name="backup_delete",
    title="Delete a backup object",
    description=(
        "Delete a Backup object (confirm must repeat its name). For object-store backups only the Kubernetes "
        "object goes, not the files, which the cluster's retention policy removes; the result says what happens "
        "to the data."
    ),
    input_schema=obj(
        {"name": {**OBJECT_NAME, "description": "Backup object name (see backup_list)"}, "namespace": NAMESPACE,
         "confirm": confirmation("Repeat the backup name to confirm the deletion"), "dry_run": DRY_RUN},
        ["name", "namespace", "confirm"],
    ),
    output_schema=obj(
        {"deleted": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "name": {"type": "string"},
         "namespace": {"type": "string"}, "cluster": {"type": "string"}, "method": {"type": "string"},
         "phase": {"type": "string"}, "data": {"type": "string"}},
        ["deleted", "dry_run", "name", "namespace", "cluster", "method", "phase", "data"],
    ),
    hints=_DELETE,
    handler=_backup_delete,
)


# --- scheduled backups -----------------------------------------------------

_SCHEDULED = obj(
    {
        "name": {"type": "string"}, "cluster": {"type": "string"}, "schedule": {"type": "string"},
        "suspended": {"type": "boolean"}, "immediate": {"type": "boolean"}, "method": {"type": "string"},
        "target": nullable({"type": "string"}), "backup_owner_reference": {"type": "string"},
        "last_schedule_time": _TIME, "next_schedule_time": _TIME, "last_check_time": _TIME, "error": _TIME,
        "age": _TIME,
    },
    ["name", "cluster", "schedule", "suspended", "immediate", "method", "target", "backup_owner_reference",
     "last_schedule_time", "next_schedule_time", "error"],
)


def _scheduled_summary(scheduled: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = scheduled["metadata"], scheduled.get("spec") or {}, scheduled.get("status") or {}
    return {
        "name": meta["name"], "cluster": _cluster_name(scheduled), "schedule": spec.get("schedule", ""),
        "suspended": bool(spec.get("suspend", False)), "immediate": bool(spec.get("immediate", False)),
        "method": spec.get("method") or BARMAN, "target": spec.get("target"),
        "backup_owner_reference": spec.get("backupOwnerReference") or "none",
        "last_schedule_time": status.get("lastScheduleTime"), "next_schedule_time": status.get("nextScheduleTime"),
        "last_check_time": status.get("lastCheckTime"), "error": status.get("error") or None,
        "age": age(meta.get("creationTimestamp")),
    }


def _get_scheduled(ctx: ToolContext, namespace: str, name: str) -> dict[str, Any]:
    kube = kube_of(ctx)
    try:
        return kb.get_scheduled_backup(kube, namespace, name, ctx.identity)
    except NotFound:
        if not resources.namespace_exists(kube, namespace, ctx.identity):
            raise ToolError(f"Namespace {namespace!r} does not exist") from None
        names = sorted(s["metadata"]["name"] for s in kb.list_scheduled_backups(kube, namespace, None, ctx.identity))
        raise _not_found("scheduled backup", name, namespace, names, "there") from None


def _scheduled_list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster = check_namespace(ctx, args["namespace"]), args.get("cluster")
    kube = kube_of(ctx)
    found = kb.list_scheduled_backups(kube, namespace, cluster, ctx.identity)
    if not found:
        if cluster is not None:
            _get_cluster(ctx, namespace, cluster)  # a typo in the cluster name gets a not-found, not []
        elif not resources.namespace_exists(kube, namespace, ctx.identity):
            raise ToolError(f"Namespace {namespace!r} does not exist")
    items = sorted((_scheduled_summary(s) for s in found), key=lambda s: s["name"])
    return {"namespace": namespace, "cluster": cluster, "count": len(items), "scheduled_backups": items}


SCHEDULED_BACKUP_LIST = ToolSpec(
    name="scheduled_backup_list",
    title="List scheduled backups",
    description=(
        "List the ScheduledBackups of a namespace (or of one cluster): schedule, suspended or not, method, "
        "owner-reference policy, and the last and next run reported by the operator."
    ),
    input_schema=obj(
        {"namespace": NAMESPACE,
         "cluster": {**CLUSTER_NAME, "description": "Only this cluster's schedules (default: all in the namespace)"}},
        ["namespace"],
    ),
    output_schema=obj(
        {"namespace": {"type": "string"}, "cluster": nullable({"type": "string"}), "count": {"type": "integer"},
         "scheduled_backups": {"type": "array", "items": _SCHEDULED}},
        ["namespace", "cluster", "count", "scheduled_backups"],
    ),
    hints=_READ,
    handler=_scheduled_list,
)


def _scheduled_create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name, cluster_name = check_namespace(ctx, args["namespace"]), args["name"], args["cluster"]
    try:
        schedule = validate_schedule(args["schedule"])
    except CronError as exc:
        raise ToolError(f"Invalid schedule: {exc}") from None
    dry_run = bool(args.get("dry_run", False))
    cluster = _get_cluster(ctx, namespace, cluster_name)
    spec = {**_backup_spec(args, cluster), "schedule": schedule}
    for arg, field in (("immediate", "immediate"), ("suspend", "suspend"),
                       ("backup_owner_reference", "backupOwnerReference")):
        if arg in args:
            spec[field] = args[arg]
    body = {
        "apiVersion": f"{cnpg.GROUP}/{cnpg.VERSION}", "kind": "ScheduledBackup",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {cnpg.LABEL_CLUSTER: cluster_name, cnpg.LABEL_MANAGED_BY: cnpg.MANAGED_BY}},
        "spec": spec,
    }
    created = kb.create_scheduled_backup(kube_of(ctx), namespace, body, dry_run=dry_run, identity=ctx.identity)
    return {
        "created": not dry_run, "dry_run": dry_run, "namespace": namespace,
        "scheduled_backup": _scheduled_summary(created), "spec": created.get("spec", {}),
        "next_step": "The operator creates a Backup at each scheduled time (see backup_list); "
                     "scheduled_backup_suspend pauses it.",
    }


SCHEDULED_BACKUP_CREATE = ToolSpec(
    name="scheduled_backup_create",
    title="Schedule backups",
    description=(
        "Create a ScheduledBackup that backs up a cluster on a cron schedule. The schedule has SIX fields, "
        "seconds first ('0 0 2 * * *' = daily at 02:00:00), or a descriptor such as @daily or '@every 6h'; "
        "a 5-field crontab is refused with the corrected form."
    ),
    input_schema=obj(
        {"name": {**OBJECT_NAME, "maxLength": 63, "description": "ScheduledBackup name"},
         "cluster": CLUSTER_NAME, "namespace": NAMESPACE,
         "schedule": {"type": "string", "minLength": 1, "maxLength": 200,
                      "description": "6-field cron with seconds (sec min hour day-of-month month day-of-week), "
                                     "e.g. '0 0 2 * * *', or @hourly/@daily/@weekly/@monthly/@yearly/'@every 12h'"},
         "immediate": {"type": "boolean", "description": "Also take a backup right away (default false)"},
         "suspend": {"type": "boolean", "description": "Create it suspended (default false)"},
         "backup_owner_reference": {"type": "string", "enum": ["none", "self", "cluster"],
                                    "description": "Owner of the Backups it creates: none (kept, default), self "
                                                   "(deleted with this ScheduledBackup) or cluster (deleted with the "
                                                   "cluster)"},
         **_METHOD_ARGUMENTS, "dry_run": DRY_RUN},
        ["name", "cluster", "namespace", "schedule"],
    ),
    output_schema=obj(
        {"created": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "namespace": {"type": "string"},
         "scheduled_backup": _SCHEDULED, "spec": {"type": "object"}, "next_step": {"type": "string"}},
        ["created", "dry_run", "namespace", "scheduled_backup", "spec"],
    ),
    hints=_CREATE,
    handler=_scheduled_create,
)


def _set_suspended(suspend: bool) -> Any:
    def handler(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        namespace, name = check_namespace(ctx, args["namespace"]), args["name"]
        dry_run = bool(args.get("dry_run", False))
        before = _get_scheduled(ctx, namespace, name)
        previous = bool((before.get("spec") or {}).get("suspend", False))
        after = previous
        if previous != suspend:
            patched = kb.patch_scheduled_backup(kube_of(ctx), namespace, name, {"spec": {"suspend": suspend}},
                                                dry_run=dry_run, identity=ctx.identity)
            after = bool((patched.get("spec") or {}).get("suspend", False))
        return {"name": name, "namespace": namespace, "dry_run": dry_run, "previous_suspended": previous,
                "suspended": after, "changed": previous != suspend}
    return handler


_TOGGLE_INPUT = obj(
    {"name": {**OBJECT_NAME, "description": "ScheduledBackup name (see scheduled_backup_list)"},
     "namespace": NAMESPACE, "dry_run": DRY_RUN},
    ["name", "namespace"],
)
_TOGGLE_OUTPUT = obj(
    {"name": {"type": "string"}, "namespace": {"type": "string"}, "dry_run": {"type": "boolean"},
     "previous_suspended": {"type": "boolean"}, "suspended": {"type": "boolean"}, "changed": {"type": "boolean"}},
    ["name", "namespace", "dry_run", "previous_suspended", "suspended", "changed"],
)

SCHEDULED_BACKUP_SUSPEND = ToolSpec(
    name="scheduled_backup_suspend",
    title="Suspend scheduled backups",
    description=(
        "Pause a ScheduledBackup: no new backups are started until it is resumed; existing backups are untouched. "
        "Reports whether it was already suspended."
    ),
    input_schema=_TOGGLE_INPUT,
    output_schema=_TOGGLE_OUTPUT,
    hints=_TOGGLE,
    handler=_set_suspended(True),
)

SCHEDULED_BACKUP_RESUME = ToolSpec(
    name="scheduled_backup_resume",
    title="Resume scheduled backups",
    description=(
        "Resume a suspended ScheduledBackup so the operator starts backups on its schedule again. Reports whether "
        "it was suspended before."
    ),
    input_schema=_TOGGLE_INPUT,
    output_schema=_TOGGLE_OUTPUT,
    hints=_TOGGLE,
    handler=_set_suspended(False),
)


def _scheduled_delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = check_namespace(ctx, args["namespace"]), args["name"]
    require_confirmation(args, name, f"delete scheduled backup {name!r}")
    dry_run = bool(args.get("dry_run", False))
    kube = kube_of(ctx)
    scheduled = _get_scheduled(ctx, namespace, name)
    uid = scheduled["metadata"]["uid"]
    made = kb.list_backups(kube, namespace, None, ctx.identity, label_selector=f"{kb.LABEL_SCHEDULED_BACKUP}={name}")
    owned = sorted(b["metadata"]["name"] for b in made
                   if any(ref.get("uid") == uid for ref in b["metadata"].get("ownerReferences") or []))
    kb.delete_scheduled_backup(kube, namespace, name, dry_run=dry_run, identity=ctx.identity)
    summary = _scheduled_summary(scheduled)
    if owned:
        note = ("These Backup objects are owned by the ScheduledBackup (backupOwnerReference self), so Kubernetes "
                "garbage collection deletes them with it; for object-store backups the files stay in the object "
                "store. The other Backups it created are kept.")
    else:
        note = "No further backups will be scheduled; the Backup objects it created are kept."
    return {"deleted": not dry_run, "dry_run": dry_run, "name": name, "namespace": namespace,
            "cluster": summary["cluster"], "backup_owner_reference": summary["backup_owner_reference"],
            "backups_deleted_with_it": owned, "note": note}


SCHEDULED_BACKUP_DELETE = ToolSpec(
    name="scheduled_backup_delete",
    title="Delete a scheduled backup",
    description=(
        "Delete a ScheduledBackup (confirm must repeat its name) so no more backups are taken on its schedule; "
        "scheduled_backup_suspend is the reversible alternative. The result lists any Backups deleted with it "
        "(backupOwnerReference self)."
    ),
    input_schema=obj(
        {"name": {**OBJECT_NAME, "description": "ScheduledBackup name (see scheduled_backup_list)"},
         "namespace": NAMESPACE,
         "confirm": confirmation("Repeat the scheduled backup name to confirm the deletion"), "dry_run": DRY_RUN},
        ["name", "namespace", "confirm"],
    ),
    output_schema=obj(
        {"deleted": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "name": {"type": "string"},
         "namespace": {"type": "string"}, "cluster": {"type": "string"}, "backup_owner_reference": {"type": "string"},
         "backups_deleted_with_it": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"}},
        ["deleted", "dry_run", "name", "namespace", "cluster", "backup_owner_reference", "backups_deleted_with_it"],
    ),
    hints=_DELETE,
    handler=_scheduled_delete,
)


# --- cluster_restore -------------------------------------------------------

# The formats CloudNativePG's ParseTargetTime accepts (cloudnative-pg/machinery pkg/types/time.go):
# PostgreSQL "YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM]]", RFC 3339, and RFC 3339 without a zone.
# A time without a zone is UTC.
_TARGET_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?P<sep>[ T])(?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d{1,9})?"
    r"(?P<zone>Z|[+-]\d{2}(?::\d{2})?)?$"
)
TARGET_TIME_FORMATS = ("'2026-03-01T14:30:00Z', '2026-03-01T16:30:00+02:00', '2026-03-01 14:30:00', "
                       "'2026-03-01 16:30:00.000000+02'")


def parse_target_time(text: str) -> datetime:
    """A recovery target time as an aware datetime (no zone = UTC).

    Raises:
        ToolError: not a format CloudNativePG accepts.
    """
    match = _TARGET_TIME.match(text.strip())
    if match is None or not _zone_fits(match["sep"], match["zone"]):
        raise ToolError(
            f"target_time {text!r} is not a timestamp CloudNativePG accepts; use e.g. {TARGET_TIME_FORMATS}"
        )
    zone = match["zone"]
    fraction = (match["frac"] or ".0")[1:7].ljust(6, "0")
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
    except ValueError:
        raise ToolError(f"target_time {text!r} is not a valid date and time") from None
    offset = timedelta(0)
    if zone and zone != "Z":
        hours, _, minutes = zone[1:].partition(":")
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0)) * (-1 if zone[0] == "-" else 1)
    return moment.replace(tzinfo=timezone(offset)).astimezone(timezone.utc)


def _zone_fits(separator: str, zone: str | None) -> bool:
    """RFC 3339 (T) takes Z or ±HH:MM; the PostgreSQL form (space) takes ±HH[:MM] but not Z."""
    if not zone:
        return True
    return (zone == "Z" or ":" in zone) if separator == "T" else zone != "Z"


def _rfc3339(moment: datetime) -> str:
    text = moment.astimezone(timezone.utc).isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _check_target_time(text: str, source: dict[str, Any] | None, backup: dict[str, Any] | None) -> str:
    """The target time in RFC 3339 UTC, if it lies in the recoverable range we can see."""
    target = parse_target_time(text)
    if target > datetime.now(timezone.utc):
        raise ToolError(f"target_time {_rfc3339(target)} is in the future; recovery can only reach past moments")
    first = _ts(((source or {}).get("status") or {}).get("firstRecoverabilityPoint"))
    if first and target < first:
        raise ToolError(
            f"target_time {_rfc3339(target)} is before the first recoverability point of cluster "
            f"{source['metadata']['name']!r} ({_rfc3339(first)}); no backup reaches back that far"
        )
    ended = _ts(((backup or {}).get("status") or {}).get("stoppedAt"))
    if ended and target < ended:
        raise ToolError(
            f"target_time {_rfc3339(target)} is before backup {backup['metadata']['name']!r} ended "
            f"({_rfc3339(ended)}); a recovery from it cannot stop earlier. Choose an older backup"
        )
    return _rfc3339(target)


def _absent_cluster(ctx: ToolContext, namespace: str, name: str) -> None:
    kube = kube_of(ctx)
    try:
        resources.get_cluster(kube, namespace, name, ctx.identity)
    except NotFound:
        if not resources.namespace_exists(kube, namespace, ctx.identity):
            raise ToolError(f"Namespace {namespace!r} does not exist") from None
        return
    raise ToolError(f"Cluster {name!r} already exists in namespace {namespace!r}; cluster_restore creates a new "
                    "cluster, so choose a name that is not taken")


def _optional_cluster(ctx: ToolContext, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return resources.get_cluster(kube_of(ctx), namespace, name, ctx.identity)
    except NotFound:
        return None


def _recovery_from_backup(ctx: ToolContext, args: dict[str, Any],
                          warnings: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    namespace, source_name = args["namespace"], args["source_cluster"]
    backup = _get_backup(ctx, namespace, args["backup"], source_name)
    owner = _cluster_name(backup)
    if owner != source_name:
        raise ToolError(f"Backup {args['backup']!r} belongs to cluster {owner!r}, not {source_name!r}; "
                        "check the backup name (backup_list) or source_cluster")
    phase = (backup.get("status") or {}).get("phase") or "new"
    if phase != COMPLETED:
        error = (backup.get("status") or {}).get("error")
        if not args.get("force"):
            raise ToolError(
                f"Backup {args['backup']!r} is {phase!r}, not completed{f' (error: {error})' if error else ''}; "
                "restore from a completed backup (backup_list), or set force to create the cluster anyway "
                "(the operator waits until the backup completes)"
            )
        warnings.append(f"Backup {args['backup']!r} is {phase!r}: the operator starts the recovery only once it "
                        "is completed.")
    if args.get("target_time") and _method(backup) == SNAPSHOT:
        raise ToolError("Point-in-time recovery from a volumeSnapshot backup needs a WAL archive as a separate "
                        "source; restore the snapshot without target_time, or omit backup to recover from the "
                        "source cluster's object store")
    if _method(backup) == PLUGIN:
        warnings.append("This backup was taken by a plugin; check that the plugin supports recovery from a "
                        "Backup object.")
    reference: dict[str, Any] = {"name": args["backup"]}
    if (backup.get("status") or {}).get("endpointCA"):
        reference["endpointCA"] = dict(backup["status"]["endpointCA"])
    return {"backup": reference}, backup


def _recovery_from_object_store(args: dict[str, Any], source: dict[str, Any] | None,
                                warnings: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    source_name = args["source_cluster"]
    if source is None:
        raise ToolError(f"Cluster {source_name!r} not found in namespace {args['namespace']!r}: recovery from its "
                        "object store needs its backup configuration. If it was deleted, restore one of its "
                        "Backup objects instead (give backup; see backup_list)")
    store = _backup_conf(source).get(BARMAN)
    if not store:
        raise ToolError(f"Cluster {source_name!r} has no spec.backup.barmanObjectStore to recover from; "
                        f"{_available_methods(source)}. Restore one of its Backup objects instead (give backup)")
    if not (source.get("status") or {}).get("firstRecoverabilityPoint"):
        warnings.append(f"Cluster {source_name!r} reports no recoverability point yet: the object store may hold "
                        "no completed base backup, in which case the recovery fails.")
    # Without an explicit serverName the operator would look under the external cluster's name.
    external = {"name": source_name,
                BARMAN: {**copy.deepcopy(store), "serverName": store.get("serverName") or source_name}}
    return {"source": source_name}, external


def _restore_spec(args: dict[str, Any], source: dict[str, Any] | None, backup: dict[str, Any] | None,
                  inherited: list[str]) -> dict[str, Any]:
    source_spec = (source or {}).get("spec") or {}

    def pick(arg: str, value: Any, label: str) -> Any:
        if arg in args:
            return args[arg]
        if value is not None:
            inherited.append(label)
        return value

    spec: dict[str, Any] = {"instances": pick("instances", source_spec.get("instances"), "instances") or 1}
    if args.get("image"):
        spec["imageName"] = args["image"]
    elif source_spec.get("imageName") or source_spec.get("imageCatalogRef"):
        key = "imageName" if source_spec.get("imageName") else "imageCatalogRef"
        spec[key] = copy.deepcopy(source_spec[key])
        inherited.append(key)
    elif ((backup or {}).get("status") or {}).get("majorVersion"):
        spec["imageName"] = f"{IMAGE_REPOSITORY}:{backup['status']['majorVersion']}"
    else:
        raise ToolError("Cannot tell which PostgreSQL image to use (the source cluster is gone and the backup "
                        "reports no major version); give image, with the same major version as the backup")
    storage = source_spec.get("storage") or {}
    size = pick("storage_size", storage.get("size"), "storage size")
    if not size:
        raise ToolError("Give storage_size (at least the size of the source database)")
    spec["storage"] = {"size": size}
    if storage_class := pick("storage_class", storage.get("storageClass"), "storage class"):
        spec["storage"]["storageClass"] = storage_class
    wal = source_spec.get("walStorage") or {}
    if wal_size := pick("wal_storage_size", wal.get("size"), "WAL storage size"):
        spec["walStorage"] = {"size": wal_size, **({"storageClass": wal["storageClass"]} if wal.get("storageClass")
                                                  else {})}
    # Hot-standby settings such as max_connections must not be lower than on the source, or
    # PostgreSQL refuses to replay its WAL: keep the source's PostgreSQL configuration.
    if source_spec.get("postgresql"):
        spec["postgresql"] = copy.deepcopy(source_spec["postgresql"])
        inherited.append("postgresql configuration")
    return spec


def _restore(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name, source_name = check_namespace(ctx, args["namespace"]), args["name"], args["source_cluster"]
    if "instances" in args:
        _check_instances(ctx, args["instances"])
    dry_run = bool(args.get("dry_run", False))
    if name == source_name:
        raise ToolError("name must differ from source_cluster: cluster_restore creates a new cluster")
    _absent_cluster(ctx, namespace, name)
    source = _optional_cluster(ctx, namespace, source_name)
    warnings: list[str] = []
    backup: dict[str, Any] | None = None
    external: dict[str, Any] | None = None
    if args.get("backup"):
        recovery, backup = _recovery_from_backup(ctx, args, warnings)
        if source is None:
            warnings.append(f"Cluster {source_name!r} no longer exists; settings not given are defaults, not the "
                            "source's.")
    else:
        recovery, external = _recovery_from_object_store(args, source, warnings)
    if args.get("target_time"):
        recovery["recoveryTarget"] = {"targetTime": _check_target_time(args["target_time"], source, backup)}
    # Recovery keeps the backup's database and owner; naming them lets the operator create the
    # app secret for that owner, as the source's initdb did.
    initdb = ((((source or {}).get("spec") or {}).get("bootstrap") or {}).get("initdb")) or {}
    inherited: list[str] = []
    for arg in ("database", "owner"):
        if args.get(arg):
            recovery[arg] = args[arg]
        elif initdb.get(arg):
            recovery[arg] = initdb[arg]
            inherited.append(arg)
    spec = _restore_spec(args, source, backup, inherited)
    spec["bootstrap"] = {"recovery": recovery}
    if external:
        spec["externalClusters"] = [external]
    body = {
        "apiVersion": f"{cnpg.GROUP}/{cnpg.VERSION}", "kind": "Cluster",
        "metadata": {"name": name, "namespace": namespace, "labels": {cnpg.LABEL_MANAGED_BY: cnpg.MANAGED_BY}},
        "spec": spec,
    }
    created = resources.create_cluster(kube_of(ctx), namespace, body, dry_run=dry_run, identity=ctx.identity)
    return {
        "created": not dry_run, "dry_run": dry_run, "cluster": _summary(created),
        "recovery": {"from": "backup" if backup else "object_store", "source_cluster": source_name,
                     "backup": args.get("backup"), "target_time": recovery.get("recoveryTarget", {}).get("targetTime"),
                     "inherited_from_source": inherited},
        "warnings": warnings,
        "spec": created.get("spec", {}),
        "next_step": "The operator restores the data, replays WAL up to the target and then starts the "
                     "instances; follow progress with cluster_get. The new cluster has no backup configuration: "
                     "add one with a different serverName or path than the source's.",
    }


CLUSTER_RESTORE = ToolSpec(
    name="cluster_restore",
    title="Restore into a new cluster",
    description=(
        "Create a NEW cluster from a completed Backup of source_cluster (give backup), or from source_cluster's "
        "object store (omit backup), optionally stopping at target_time (point-in-time recovery). Image, storage, "
        "instances and PostgreSQL settings default to the source's; existing clusters are never touched."
    ),
    input_schema=obj(
        {
            "name": {**CLUSTER_NAME, "description": "Name of the NEW cluster (must not exist)"},
            "namespace": NAMESPACE,
            "source_cluster": {**CLUSTER_NAME, "description": "Cluster the backup or object store belongs to"},
            "backup": {**OBJECT_NAME, "description": "Backup object to restore (see backup_list); omit to recover "
                                                     "from the source cluster's object store"},
            "target_time": {"type": "string", "maxLength": 40,
                            "description": "Point-in-time recovery target, RFC 3339 or PostgreSQL timestamp "
                                           f"(no zone = UTC), e.g. {TARGET_TIME_FORMATS}; default: replay all WAL"},
            "instances": {"type": "integer", "minimum": 1, "maximum": 100,
                          "description": "Number of instances (default: the source's, else 1)"},
            "image": {"type": "string", "maxLength": 256, "pattern": r"^[^\s]+$",
                      "description": "Operand image; same PostgreSQL major version as the backup "
                                     "(default: the source's)"},
            "storage_size": {**STORAGE_SIZE, "description": "Data volume size (default: the source's)"},
            "storage_class": {"type": "string", "maxLength": 253},
            "wal_storage_size": {**STORAGE_SIZE, "description": "Separate WAL volume size (default: the source's)"},
            "database": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$",
                         "description": "Application database in the backup (default: the source's initdb one)"},
            "owner": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$",
                      "description": "Owner of that database (default: the source's)"},
            "force": {"type": "boolean", "default": False,
                      "description": "Restore from a backup that is not completed yet (the operator waits for it)"},
            "dry_run": DRY_RUN,
        },
        ["name", "namespace", "source_cluster"],
    ),
    output_schema=obj(
        {"created": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "cluster": {"type": "object"},
         "recovery": obj({"from": {"type": "string", "enum": ["backup", "object_store"]},
                          "source_cluster": {"type": "string"}, "backup": nullable({"type": "string"}),
                          "target_time": _TIME,
                          "inherited_from_source": {"type": "array", "items": {"type": "string"}}},
                         ["from", "source_cluster", "backup", "target_time", "inherited_from_source"]),
         "warnings": {"type": "array", "items": {"type": "string"}}, "spec": {"type": "object"},
         "next_step": {"type": "string"}},
        ["created", "dry_run", "cluster", "recovery", "warnings", "spec"],
    ),
    hints=_CREATE,
    handler=_restore,
)

BACKUPS_TOOLS: list[ToolSpec] = [
    BACKUP_LIST, BACKUP_CREATE, BACKUP_DELETE, SCHEDULED_BACKUP_LIST, SCHEDULED_BACKUP_CREATE,
    SCHEDULED_BACKUP_SUSPEND, SCHEDULED_BACKUP_RESUME, SCHEDULED_BACKUP_DELETE, CLUSTER_RESTORE,
]
