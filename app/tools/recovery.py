"""Recovery: a NEW cluster bootstrapped from a Backup, or point in time from a cluster's object store.

Target times, backup ownership and completion are checked before anything is submitted.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from app.kube import NotFound, cnpg, resources
from app.tools.clusters import IMAGE_REPOSITORY, check_instances, cluster_summary
from app.tools.common import (
    missing_namespace,
    CLUSTER_NAME,
    DRY_RUN,
    NAMESPACE,
    STORAGE_SIZE,
    nullable,
    obj,
)
from app.tools.context import ToolContext
from app.tools.errors import ToolError
from app.tools.spec import ToolSpec

from app.tools.backups import (
    BARMAN,
    PLUGIN,
    SNAPSHOT,
    COMPLETED,
    CREATE_HINTS,
    OBJECT_NAME,
    TIME_PROPERTY,
    available_methods,
    backup_configuration,
    backup_method,
    cluster_of,
    get_backup_or_explain,
    parse_timestamp,
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
    first = parse_timestamp(((source or {}).get("status") or {}).get("firstRecoverabilityPoint"))
    if first and target < first:
        raise ToolError(
            f"target_time {_rfc3339(target)} is before the first recoverability point of cluster "
            f"{source['metadata']['name']!r} ({_rfc3339(first)}); no backup reaches back that far"
        )
    ended = parse_timestamp(((backup or {}).get("status") or {}).get("stoppedAt"))
    if ended and target < ended:
        raise ToolError(
            f"target_time {_rfc3339(target)} is before backup {backup['metadata']['name']!r} ended "
            f"({_rfc3339(ended)}); a recovery from it cannot stop earlier. Choose an older backup"
        )
    return _rfc3339(target)


def _absent_cluster(ctx: ToolContext, namespace: str, name: str) -> None:
    kube = ctx.kube
    try:
        kube.get(cnpg.CLUSTER, namespace, name)
    except NotFound:
        if not resources.namespace_exists(kube, namespace):
            raise missing_namespace(ctx.kube, namespace) from None
        return
    raise ToolError(f"Cluster {name!r} already exists in namespace {namespace!r}; cluster_restore creates a new "
                    "cluster, so choose a name that is not taken")


def _optional_cluster(ctx: ToolContext, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return ctx.kube.get(cnpg.CLUSTER, namespace, name)
    except NotFound:
        return None


def _recovery_from_backup(ctx: ToolContext, args: dict[str, Any],
                          warnings: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    namespace, source_name = args["namespace"], args["source_cluster"]
    backup = get_backup_or_explain(ctx, namespace, args["backup"], source_name)
    owner = cluster_of(backup)
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
        ctx.confirmation.require_override(args["name"], f"create cluster {args['name']!r} in namespace "
                                          f"{namespace!r} from backup {args['backup']!r}, which is {phase!r}, "
                                          "not completed")
        warnings.append(f"Backup {args['backup']!r} is {phase!r}: the operator starts the recovery only once it "
                        "is completed.")
    if args.get("target_time") and backup_method(backup) == SNAPSHOT:
        raise ToolError("Point-in-time recovery from a volumeSnapshot backup needs a WAL archive as a separate "
                        "source; restore the snapshot without target_time, or omit backup to recover from the "
                        "source cluster's object store")
    if backup_method(backup) == PLUGIN:
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
    store = backup_configuration(source).get(BARMAN)
    if not store:
        raise ToolError(f"Cluster {source_name!r} has no spec.backup.barmanObjectStore to recover from; "
                        f"{available_methods(source)}. Restore one of its Backup objects instead (give backup)")
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
    namespace, name, source_name = args["namespace"], args["name"], args["source_cluster"]
    if "instances" in args:
        check_instances(ctx, args["instances"])
    dry_run = args["dry_run"]
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
    created = ctx.kube.create(cnpg.CLUSTER, namespace, body, dry_run=dry_run)
    return {
        "created": not dry_run, "dry_run": dry_run, "cluster": cluster_summary(created),
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
                          "target_time": TIME_PROPERTY,
                          "inherited_from_source": {"type": "array", "items": {"type": "string"}}},
                         ["from", "source_cluster", "backup", "target_time", "inherited_from_source"]),
         "warnings": {"type": "array", "items": {"type": "string"}}, "spec": {"type": "object"},
         "next_step": {"type": "string"}},
        ["created", "dry_run", "cluster", "recovery", "warnings", "spec"],
    ),
    hints=CREATE_HINTS,
    handler=_restore,
)


RECOVERY_TOOLS: list[ToolSpec] = [CLUSTER_RESTORE]
