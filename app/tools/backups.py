"""Backups, scheduled backups and recovery into a new cluster.

A Backup object asks the operator for one base backup; a ScheduledBackup creates Backups on a
cron schedule; `cluster_restore` bootstraps a NEW cluster from a Backup or from a cluster's
object store (point in time). Everything is validated against what the operator would refuse
later (missing backup configuration, 5-field cron, target times outside the recoverable range),
so the model hears about it now rather than from a failed object hours later.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from app.kube import NotFound, cnpg, resources
from app.kube import backups as kb
from app.tools.clusters import get_cluster_or_explain
from app.tools.common import (
    missing_namespace,
    CLUSTER_NAME,
    DRY_RUN,
    NAMESPACE,
    age,
    confirmation,
    nullable,
    obj,
    require_confirmation,
)
from app.tools.context import ToolContext
from app.tools.cron import CronError, validate_schedule
from app.tools.errors import ToolError
from app.tools.spec import ToolHints, ToolSpec

_READ = ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False)
CREATE_HINTS = ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False)
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
TIME_PROPERTY = nullable({"type": "string"})

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


def parse_timestamp(value: str | None) -> datetime | None:
    """A Kubernetes RFC 3339 timestamp as an aware datetime; None when absent or unreadable."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def cluster_of(obj_: dict[str, Any]) -> str:
    return ((obj_.get("spec") or {}).get("cluster") or {}).get("name", "")


def backup_configuration(cluster: dict[str, Any]) -> dict[str, Any]:
    return (cluster.get("spec") or {}).get("backup") or {}


def _plugin_names(cluster: dict[str, Any]) -> list[str]:
    plugins = (cluster.get("spec") or {}).get("plugins") or []
    return sorted(p["name"] for p in plugins if p.get("name") and p.get("enabled", True))


def available_methods(cluster: dict[str, Any]) -> str:
    conf = backup_configuration(cluster)
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
                f"{available_methods(cluster)}"
            )
    elif not backup_configuration(cluster).get(effective):
        default = " (the default method)" if method is None else ""
        raise ToolError(
            f"Cluster {name!r} has no spec.backup.{effective} configured, so a {effective} backup{default} would "
            f"fail; {available_methods(cluster)}. Choose another method, or configure {effective} on the cluster first"
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


def backup_method(obj_: dict[str, Any]) -> str:
    return (obj_.get("status") or {}).get("method") or (obj_.get("spec") or {}).get("method") or BARMAN


def _not_found(ctx: ToolContext, kind: cnpg.Kind, name: str, namespace: str, names: list[str],
               scope: str) -> ToolError:
    """`scope` is "there" (the namespace) or e.g. "of cluster 'pg'"."""
    listing = f"{kind.word}s {scope}: {', '.join(names)}" if names else f"no {kind.word}s {scope}"
    return ToolError(f"{kind.label} {name!r} not found in {ctx.kube.where(namespace)}; {listing}")


def get_backup_or_explain(ctx: ToolContext, namespace: str, name: str, cluster: str | None = None) -> dict[str, Any]:
    """The Backup, or a not-found error naming the backups that exist (of `cluster`, if given)."""
    kube = ctx.kube
    try:
        return kube.get(cnpg.BACKUP, namespace, name)
    except NotFound:
        if not resources.namespace_exists(kube, namespace):
            raise missing_namespace(ctx.kube, namespace) from None
        names = [b["metadata"]["name"] for b in _newest_first(kb.list_backups(kube, namespace, cluster))]
        scope = f"of cluster {cluster!r}" if cluster else "there"
        raise _not_found(ctx, cnpg.BACKUP, name, namespace, names, scope) from None


def _newest_first(backups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def when(b: dict[str, Any]) -> datetime:
        stamp = (b.get("status") or {}).get("startedAt") or b["metadata"].get("creationTimestamp")
        return parse_timestamp(stamp) or datetime.min.replace(tzinfo=timezone.utc)

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
        "started_at": TIME_PROPERTY, "stopped_at": TIME_PROPERTY, "error": TIME_PROPERTY, "age": TIME_PROPERTY,
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
        "cluster": cluster_of(backup),
        "phase": status.get("phase") or "new (the operator has not reported on it yet)",
        "method": backup_method(backup),
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
    namespace, cluster = args["namespace"], args.get("cluster")
    kube = ctx.kube
    found = kb.list_backups(kube, namespace, cluster)
    recoverability = None
    note = None
    if cluster is not None:
        try:
            status = kube.get(cnpg.CLUSTER, namespace, cluster).get("status") or {}
            recoverability = {"first_recoverability_point": status.get("firstRecoverabilityPoint"),
                              "last_successful_backup": status.get("lastSuccessfulBackup")}
        except NotFound:
            if not found:
                get_cluster_or_explain(ctx, namespace, cluster)  # raises: names the clusters (or the missing namespace)
            note = f"Cluster {cluster!r} no longer exists; its backups can still be restored with cluster_restore."
    elif not found and not resources.namespace_exists(kube, namespace):
        raise missing_namespace(ctx.kube, namespace)
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
         "recoverability": nullable(obj({"first_recoverability_point": TIME_PROPERTY, "last_successful_backup": TIME_PROPERTY})),
         "note": {"type": "string"}},
        ["namespace", "cluster", "count", "backups", "recoverability"],
    ),
    hints=_READ,
    handler=_backup_list,
)


# --- backup_create ---------------------------------------------------------


def _backup_create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster_name = args["namespace"], args["cluster"]
    dry_run = args["dry_run"]
    cluster = get_cluster_or_explain(ctx, namespace, cluster_name)
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
    created = ctx.kube.create(cnpg.BACKUP, namespace, body, dry_run=dry_run)
    return {
        "created": not dry_run, "dry_run": dry_run, "name": name, "namespace": namespace, "cluster": cluster_name,
        "method": backup_method(created), "spec": created.get("spec", {}),
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
    hints=CREATE_HINTS,
    handler=_backup_create,
)


# --- backup_delete ---------------------------------------------------------


def _what_happens_to_the_data(backup: dict[str, Any], cluster: dict[str, Any] | None) -> str:
    method = backup_method(backup)
    conf = backup_configuration(cluster) if cluster else {}
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
    namespace, name = args["namespace"], args["name"]
    require_confirmation(ctx, args, name, f"delete backup {name!r}")
    dry_run = args["dry_run"]
    kube = ctx.kube
    backup = get_backup_or_explain(ctx, namespace, name)
    try:
        cluster = kube.get(cnpg.CLUSTER, namespace, cluster_of(backup))
    except NotFound:
        cluster = None
    kube.delete(cnpg.BACKUP, namespace, name, dry_run=dry_run)
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
        "last_schedule_time": TIME_PROPERTY, "next_schedule_time": TIME_PROPERTY, "last_check_time": TIME_PROPERTY, "error": TIME_PROPERTY,
        "age": TIME_PROPERTY,
    },
    ["name", "cluster", "schedule", "suspended", "immediate", "method", "target", "backup_owner_reference",
     "last_schedule_time", "next_schedule_time", "error"],
)


def _scheduled_summary(scheduled: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = scheduled["metadata"], scheduled.get("spec") or {}, scheduled.get("status") or {}
    return {
        "name": meta["name"], "cluster": cluster_of(scheduled), "schedule": spec.get("schedule", ""),
        "suspended": bool(spec.get("suspend", False)), "immediate": bool(spec.get("immediate", False)),
        "method": spec.get("method") or BARMAN, "target": spec.get("target"),
        "backup_owner_reference": spec.get("backupOwnerReference") or "none",
        "last_schedule_time": status.get("lastScheduleTime"), "next_schedule_time": status.get("nextScheduleTime"),
        "last_check_time": status.get("lastCheckTime"), "error": status.get("error") or None,
        "age": age(meta.get("creationTimestamp")),
    }


def _get_scheduled(ctx: ToolContext, namespace: str, name: str) -> dict[str, Any]:
    kube = ctx.kube
    try:
        return kube.get(cnpg.SCHEDULED_BACKUP, namespace, name)
    except NotFound:
        if not resources.namespace_exists(kube, namespace):
            raise missing_namespace(ctx.kube, namespace) from None
        names = sorted(s["metadata"]["name"] for s in kb.list_scheduled_backups(kube, namespace, None))
        raise _not_found(ctx, cnpg.SCHEDULED_BACKUP, name, namespace, names, "there") from None


def _scheduled_list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster = args["namespace"], args.get("cluster")
    kube = ctx.kube
    found = kb.list_scheduled_backups(kube, namespace, cluster)
    if not found:
        if cluster is not None:
            get_cluster_or_explain(ctx, namespace, cluster)  # a typo in the cluster name gets a not-found, not []
        elif not resources.namespace_exists(kube, namespace):
            raise missing_namespace(ctx.kube, namespace)
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
    namespace, name, cluster_name = args["namespace"], args["name"], args["cluster"]
    try:
        schedule = validate_schedule(args["schedule"])
    except CronError as exc:
        raise ToolError(f"Invalid schedule: {exc}") from None
    dry_run = args["dry_run"]
    cluster = get_cluster_or_explain(ctx, namespace, cluster_name)
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
    created = ctx.kube.create(cnpg.SCHEDULED_BACKUP, namespace, body, dry_run=dry_run)
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
    hints=CREATE_HINTS,
    handler=_scheduled_create,
)


def _set_suspended(suspend: bool) -> Any:
    def handler(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        namespace, name = args["namespace"], args["name"]
        dry_run = args["dry_run"]
        before = _get_scheduled(ctx, namespace, name)
        previous = bool((before.get("spec") or {}).get("suspend", False))
        after = previous
        if previous != suspend:
            patched = ctx.kube.patch(cnpg.SCHEDULED_BACKUP, namespace, name, {"spec": {"suspend": suspend}},
                                     dry_run=dry_run)
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
    namespace, name = args["namespace"], args["name"]
    require_confirmation(ctx, args, name, f"delete scheduled backup {name!r}")
    dry_run = args["dry_run"]
    kube = ctx.kube
    scheduled = _get_scheduled(ctx, namespace, name)
    uid = scheduled["metadata"]["uid"]
    made = kb.list_backups(kube, namespace, None, label_selector=f"{kb.LABEL_SCHEDULED_BACKUP}={name}")
    owned = sorted(b["metadata"]["name"] for b in made
                   if any(ref.get("uid") == uid for ref in b["metadata"].get("ownerReferences") or []))
    kube.delete(cnpg.SCHEDULED_BACKUP, namespace, name, dry_run=dry_run)
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


BACKUPS_TOOLS: list[ToolSpec] = [
    BACKUP_LIST, BACKUP_CREATE, BACKUP_DELETE, SCHEDULED_BACKUP_LIST, SCHEDULED_BACKUP_CREATE,
    SCHEDULED_BACKUP_SUSPEND, SCHEDULED_BACKUP_RESUME, SCHEDULED_BACKUP_DELETE,
]
