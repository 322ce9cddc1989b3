"""Cluster lifecycle tools: list, inspect, create, scale, tune, resize, delete."""

from __future__ import annotations

from typing import Any

from app.kube import ALL_NAMESPACES, NotFound, cnpg, resources
from app.tools.common import (
    scale_schemas,
    get_or_explain,
    missing_namespace,
    namespaces_to_list,
    CLUSTER_NAME,
    DRY_RUN,
    NAMESPACE,
    STORAGE_SIZE,
    age,
    confirmation,
    nullable,
    obj,
    quantity_bytes,
    require_confirmation,
)
from app.tools.context import ToolContext
from app.tools.errors import DOMAIN_ERRORS, ToolError
from app.tools.spec import ToolHints, ToolSpec

IMAGE_REPOSITORY = "ghcr.io/cloudnative-pg/postgresql"
POSTGRES_MAJORS = ["13", "14", "15", "16", "17", "18"]
DEFAULT_MAJOR = "17"

# Parameters CloudNativePG manages itself and rejects (docs: postgresql_conf.md, "fixed parameters").
FIXED_PARAMETERS = frozenset({
    "allow_system_table_mods", "archive_cleanup_command", "archive_command", "archive_mode", "config_file",
    "data_directory", "external_pid_file", "hba_file", "hot_standby", "ident_file", "listen_addresses",
    "log_destination", "log_directory", "log_file_mode", "log_filename", "log_rotation_age", "log_rotation_size",
    "log_truncate_on_rotation", "logging_collector", "port", "primary_conninfo", "primary_slot_name",
    "promote_trigger_file", "recovery_end_command", "recovery_min_apply_delay", "recovery_target",
    "recovery_target_action", "recovery_target_inclusive", "recovery_target_lsn", "recovery_target_name",
    "recovery_target_time", "recovery_target_timeline", "recovery_target_xid", "restart_after_crash",
    "restore_command", "ssl", "ssl_ca_file", "ssl_cert_file", "ssl_crl_file", "ssl_dh_params_file",
    "ssl_ecdh_curve", "ssl_key_file", "ssl_passphrase_command", "ssl_passphrase_command_supports_reload",
    "ssl_prefer_server_ciphers", "stats_temp_directory", "synchronous_standby_names", "syslog_facility",
    "syslog_ident", "syslog_sequence_numbers", "syslog_split_messages", "unix_socket_directories",
    "unix_socket_group", "unix_socket_permissions",
})

# A Kubernetes resource quantity (e.g. 500m, 2, 1Gi), with the regular expression CloudNativePG's
# defaulting webhook applies before anything else: it refuses other values without naming the field.
QUANTITY = {"type": "string", "maxLength": 32, "pattern": r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"}

_READ = ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False)

_SUMMARY = obj(
    {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "phase": {"type": "string"},
        "instances": {"type": "integer"},
        "ready_instances": {"type": "integer"},
        "primary": nullable({"type": "string"}),
        "image": nullable({"type": "string"}),
        "storage": nullable({"type": "string"}),
        "age": nullable({"type": "string"}),
        "context": {"type": "string"},  # only when listing across contexts
    },
    ["name", "namespace", "phase", "instances", "ready_instances", "primary", "image", "storage", "age"],
)
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def cluster_summary(cluster: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = cluster.get("metadata", {}), cluster.get("spec", {}), cluster.get("status", {})
    return {
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "phase": status.get("phase") or "Unknown (no status reported yet)",
        "instances": int(spec.get("instances", 0)),
        "ready_instances": int(status.get("readyInstances", 0)),
        "primary": status.get("currentPrimary"),
        "image": status.get("image") or spec.get("imageName"),
        "storage": (spec.get("storage") or {}).get("size"),
        "age": age(meta.get("creationTimestamp")),
    }


def get_cluster_or_explain(ctx: ToolContext, namespace: str, name: str) -> dict[str, Any]:
    """The Cluster, or a not-found error that says what does exist."""
    return get_or_explain(ctx, cnpg.CLUSTER, namespace, name)


# --- cluster_list ----------------------------------------------------------


def _clusters_in(ctx: ToolContext, namespace: str | None, selector: str | None, *,
                 overlap: bool = True) -> tuple[list[dict[str, Any]], str]:
    """The Clusters of one context and where they were looked for. `overlap` reads the list
    while the namespace is checked (not from inside another prefetched read: no nesting)."""
    kube = ctx.kube
    if namespace is not None:
        def read() -> list[dict[str, Any]]:
            return kube.list(cnpg.CLUSTER, namespace, label_selector=selector)

        listing = kube.prefetch(read) if overlap else None
        if not resources.namespace_exists(kube, namespace):
            raise missing_namespace(kube, namespace)  # reported before anything the list says
        return (listing.result() if listing else read()), f"namespace {namespace}"
    searched = namespaces_to_list(ctx)
    found = [c for ns in searched for c in kube.list(cnpg.CLUSTER, ns, label_selector=selector)]
    if searched == [ALL_NAMESPACES]:
        return found, "all namespaces"
    return found, f"namespaces {', '.join(searched)}" if searched else "no namespace this caller may list"


def _across_contexts(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Every allowed context at once, in parallel; a context that fails is a line, not an error."""
    names = ctx.kube.served_contexts()
    ahead = {name: ctx.kube.prefetch(lambda name=name: _clusters_in(
        ctx.in_context(name), args.get("namespace"), args.get("label_selector"), overlap=False)) for name in names}
    clusters, contexts = [], []
    for name, future in ahead.items():
        try:
            found, scope = future.result()
        except DOMAIN_ERRORS as exc:
            contexts.append({"context": name, "ok": False, "error": str(exc)})
            continue
        contexts.append({"context": name, "ok": True, "scope": scope, "count": len(found)})
        clusters += [{**cluster_summary(c), "context": name} for c in found]
    clusters.sort(key=lambda c: (names.index(c["context"]), c["namespace"], c["name"]))
    failed = [c["context"] for c in contexts if not c["ok"]]
    scope = f"contexts {', '.join(names)}" + (f" (failed: {', '.join(failed)})" if failed else "")
    return {"context": None, "scope": scope, "count": len(clusters), "clusters": clusters, "contexts": contexts}


def _list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    if args.get("all_contexts"):
        return _across_contexts(args, ctx)
    found, scope = _clusters_in(ctx, args.get("namespace"), args.get("label_selector"))
    clusters = sorted((cluster_summary(c) for c in found), key=lambda c: (c["namespace"], c["name"]))
    return {"scope": scope, "count": len(clusters), "clusters": clusters}


CLUSTER_LIST = ToolSpec(
    name="cluster_list",
    title="List PostgreSQL clusters",
    description=(
        "List CloudNativePG clusters with phase, ready/total instances, primary, image, storage and age. "
        "Use it first to find cluster names; omit namespace to search every namespace this server may see."
    ),
    input_schema=obj({
        "namespace": {**NAMESPACE, "description": "Only this namespace (default: all allowed namespaces)"},
        "label_selector": {"type": "string", "maxLength": 256, "description": "Kubernetes label selector, e.g. team=payments"},
    }),
    output_schema=obj(
        {"scope": {"type": "string"}, "count": {"type": "integer"}, "clusters": {"type": "array", "items": _SUMMARY},
         # Only with all_contexts: how each context answered.
         "contexts": {"type": "array", "items": obj(
             {"context": {"type": "string"}, "ok": {"type": "boolean"}, "scope": {"type": "string"},
              "count": {"type": "integer"}, "error": {"type": "string"}}, ["context", "ok"])}},
        ["scope", "count", "clusters"],
    ),
    hints=_READ,
    handler=_list,
    lists_across_contexts=True,
)


# --- cluster_get -----------------------------------------------------------


def _role(pod: dict[str, Any]) -> str:
    labels = pod.get("metadata", {}).get("labels", {})
    return labels.get(cnpg.LABEL_INSTANCE_ROLE) or labels.get(cnpg.LABEL_LEGACY_ROLE) or "unknown"


def pod_ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _get(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    kube = ctx.kube
    # Three independent reads, in flight together; the Cluster's own errors still come first.
    # Instance pods only: a real cluster also keeps its completed bootstrap Job pods (and its
    # PgBouncer pods) under the same cluster label; cluster_pods shows those.
    pods_ahead = kube.prefetch(lambda: resources.list_pods(
        kube, namespace, cnpg.instance_selector(name)))
    events_ahead = kube.prefetch(lambda: resources.list_events(kube, namespace, "Cluster", name))
    cluster = get_cluster_or_explain(ctx, namespace, name)
    spec, status = cluster.get("spec", {}), cluster.get("status", {})
    pods, events = pods_ahead.result(), events_ahead.result()
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)
    backup = spec.get("backup") or {}
    wal = spec.get("walStorage")
    return {
        **cluster_summary(cluster),
        "phase_reason": status.get("phaseReason"),
        "current_primary": status.get("currentPrimary"),
        "target_primary": status.get("targetPrimary"),
        "conditions": [
            {k: str(c.get(k, "")) for k in ("type", "status", "reason", "message")} for c in status.get("conditions") or []
        ],
        "pods": [
            {
                "name": p["metadata"]["name"],
                "role": _role(p),
                "ready": pod_ready(p),
                "phase": p.get("status", {}).get("phase", "Unknown"),
            }
            for p in sorted(pods, key=lambda p: p["metadata"]["name"])
        ],
        "storage_class": (spec.get("storage") or {}).get("storageClass"),
        "wal_storage": {"size": wal.get("size"), "storage_class": wal.get("storageClass")} if wal else None,
        "postgresql_parameters": {k: str(v) for k, v in ((spec.get("postgresql") or {}).get("parameters") or {}).items()},
        "backup": {
            "configured": bool(backup),
            "methods": sorted(k for k in ("barmanObjectStore", "volumeSnapshot") if k in backup),
            "retention_policy": backup.get("retentionPolicy"),
            "last_successful_backup": status.get("lastSuccessfulBackup"),
        },
        "events": [
            {
                "type": e.get("type", ""),
                "reason": e.get("reason", ""),
                "message": e.get("message", ""),
                "count": int(e.get("count") or 1),
                "last_seen": e.get("lastTimestamp") or e.get("eventTime"),
            }
            for e in events[:10]
        ],
    }


CLUSTER_GET = ToolSpec(
    name="cluster_get",
    title="Get PostgreSQL cluster status",
    description=(
        "Show one cluster in detail: phase and reason, conditions, each instance's role and readiness, "
        "current and target primary, image, storage, PostgreSQL parameters, backup configuration and recent events. "
        "Use it to diagnose a cluster or before changing it."
    ),
    input_schema=obj({"name": CLUSTER_NAME, "namespace": NAMESPACE}, ["name", "namespace"]),
    output_schema=obj(
        {
            **_SUMMARY["properties"],
            "phase_reason": nullable({"type": "string"}),
            "current_primary": nullable({"type": "string"}),
            "target_primary": nullable({"type": "string"}),
            "conditions": {"type": "array", "items": {"type": "object"}},
            "pods": {"type": "array", "items": obj({
                "name": {"type": "string"}, "role": {"type": "string"}, "ready": {"type": "boolean"},
                "phase": {"type": "string"},
            }, ["name", "role", "ready", "phase"])},
            "storage_class": nullable({"type": "string"}),
            "wal_storage": nullable({"type": "object"}),
            "postgresql_parameters": _STRING_MAP,
            "backup": {"type": "object"},
            "events": {"type": "array", "items": {"type": "object"}},
        },
        ["name", "namespace", "phase", "pods", "conditions", "postgresql_parameters", "backup", "events"],
    ),
    hints=_READ,
    handler=_get,
)


# --- cluster_create --------------------------------------------------------


def _resources_spec(requested: dict[str, Any] | None) -> dict[str, Any] | None:
    if not requested:
        return None
    return {kind: dict(values) for kind, values in requested.items() if values}


def _manifest(args: dict[str, Any]) -> dict[str, Any]:
    image = args.get("image") or f"{IMAGE_REPOSITORY}:{args.get('postgres_version', DEFAULT_MAJOR)}"
    storage: dict[str, Any] = {"size": args.get("storage_size", "10Gi")}
    if args.get("storage_class"):
        storage["storageClass"] = args["storage_class"]
    database = args.get("database", "app")
    spec: dict[str, Any] = {
        "instances": args.get("instances", 3),
        "imageName": image,
        "storage": storage,
        "bootstrap": {"initdb": {"database": database, "owner": args.get("owner", database)}},
        "enableSuperuserAccess": bool(args.get("enable_superuser_access", False)),
    }
    if args.get("wal_storage_size"):
        spec["walStorage"] = {"size": args["wal_storage_size"]}
        if args.get("wal_storage_class"):
            spec["walStorage"]["storageClass"] = args["wal_storage_class"]
    if args.get("parameters"):
        spec["postgresql"] = {"parameters": dict(args["parameters"])}
    if resources_spec := _resources_spec(args.get("resources")):
        spec["resources"] = resources_spec
    return {
        "apiVersion": f"{cnpg.GROUP}/{cnpg.VERSION}",
        "kind": "Cluster",
        "metadata": {
            "name": args["name"],
            "namespace": args["namespace"],
            "labels": {cnpg.LABEL_MANAGED_BY: cnpg.MANAGED_BY},
        },
        "spec": spec,
    }


def check_instances(ctx: ToolContext, instances: int) -> None:
    limit = ctx.settings.max_instances
    if instances > limit:
        raise ToolError(f"instances must be at most {limit} on this server (MCP_MAX_INSTANCES); got {instances}")


def _check_parameters(parameters: dict[str, Any]) -> None:
    fixed = sorted(set(parameters) & FIXED_PARAMETERS)
    if fixed:
        raise ToolError(
            f"CloudNativePG manages these parameters itself and rejects them: {', '.join(fixed)}; remove them"
        )


def _create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace = args["namespace"]
    if args.get("image") and args.get("postgres_version"):
        raise ToolError("Give either postgres_version or image, not both")
    if args.get("wal_storage_class") and not args.get("wal_storage_size"):
        raise ToolError("wal_storage_class needs wal_storage_size")
    check_instances(ctx, args.get("instances", 3))
    _check_parameters(args.get("parameters") or {})
    dry_run = args["dry_run"]
    kube = ctx.kube
    if not resources.namespace_exists(kube, namespace):
        raise missing_namespace(ctx.kube, namespace)
    created = kube.create(cnpg.CLUSTER, namespace, _manifest(args), dry_run=dry_run)
    return {
        "created": not dry_run,
        "dry_run": dry_run,
        "cluster": cluster_summary(created),
        "spec": created.get("spec", {}),
        "next_step": "The operator now creates the instances; follow progress with cluster_get.",
    }


CLUSTER_CREATE = ToolSpec(
    name="cluster_create",
    title="Create a PostgreSQL cluster",
    description=(
        "Create a CloudNativePG cluster (PostgreSQL major version or image, instances, storage, initial database "
        "and owner, parameters, resources). Use dry_run first to see what the API server would accept; the "
        "operator creates the instances after this returns, so check progress with cluster_get."
    ),
    input_schema=obj(
        {
            "name": CLUSTER_NAME,
            "namespace": NAMESPACE,
            "instances": {"type": "integer", "minimum": 1, "maximum": 100, "default": 3,
                          "description": "Number of PostgreSQL instances (1 primary + replicas)"},
            "postgres_version": {"type": "string", "enum": POSTGRES_MAJORS,
                                 "description": f"PostgreSQL major version (default {DEFAULT_MAJOR}); or give image"},
            "image": {"type": "string", "maxLength": 256, "pattern": r"^[^\s]+$",
                      "description": "Full operand image instead of postgres_version"},
            "storage_size": {**STORAGE_SIZE, "default": "10Gi", "description": "Data volume size, e.g. 10Gi"},
            "storage_class": {"type": "string", "maxLength": 253},
            "wal_storage_size": {**STORAGE_SIZE, "description": "Separate WAL volume size (optional)"},
            "wal_storage_class": {"type": "string", "maxLength": 253},
            "database": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$", "default": "app",
                         "description": "Initial database"},
            "owner": {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$",
                      "description": "Owner of the initial database (default: same as database)"},
            "parameters": {**_STRING_MAP, "maxProperties": 100, "description": "postgresql.conf parameters"},
            "resources": obj({
                "requests": obj({"cpu": QUANTITY, "memory": QUANTITY}),
                "limits": obj({"cpu": QUANTITY, "memory": QUANTITY}),
            }, description="CPU/memory requests and limits per instance, as Kubernetes quantities: "
                           "cpu 500m or 2, memory 512Mi or 4Gi"),
            "enable_superuser_access": {"type": "boolean", "default": False,
                                        "description": "Create a postgres superuser secret (off by default)"},
            "dry_run": DRY_RUN,
        },
        ["name", "namespace"],
    ),
    output_schema=obj(
        {"created": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "cluster": _SUMMARY,
         "spec": {"type": "object"}, "next_step": {"type": "string"}},
        ["created", "dry_run", "cluster", "spec"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
    handler=_create,
)


# --- cluster_scale ---------------------------------------------------------


def _scale(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name, instances = args["namespace"], args["name"], args["instances"]
    check_instances(ctx, instances)
    dry_run = args["dry_run"]
    before = get_cluster_or_explain(ctx, namespace, name)
    patched = ctx.kube.patch(cnpg.CLUSTER, namespace, name, {"spec": {"instances": instances}}, dry_run=dry_run)
    return {
        "name": name, "namespace": namespace, "dry_run": dry_run,
        "previous_instances": int(before.get("spec", {}).get("instances", 0)),
        "instances": int(patched.get("spec", {}).get("instances", instances)),
    }


_CLUSTER_SCALE_SCHEMAS = scale_schemas(CLUSTER_NAME, 100)
CLUSTER_SCALE = ToolSpec(
    name="cluster_scale",
    title="Scale a PostgreSQL cluster",
    description=(
        "Set the number of instances of a cluster. Scaling down removes replicas (the operator never removes "
        "the primary first); use dry_run to preview."
    ),
    input_schema=_CLUSTER_SCALE_SCHEMAS[0],
    output_schema=_CLUSTER_SCALE_SCHEMAS[1],
    # Not destructive: replicas hold copies only, and the primary is never removed by scaling.
    hints=ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False),
    handler=_scale,
)


# --- cluster_set_parameters ------------------------------------------------


def _set_parameters(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    changes: dict[str, str | None] = args["parameters"]
    _check_parameters({k: v for k, v in changes.items() if v is not None})
    dry_run = args["dry_run"]
    before = get_cluster_or_explain(ctx, namespace, name)
    previous = ((before.get("spec", {}).get("postgresql") or {}).get("parameters")) or {}
    missing = sorted(k for k, v in changes.items() if v is None and k not in previous)
    if missing:
        raise ToolError(f"Cannot remove parameters that are not set: {', '.join(missing)}")
    # In a merge patch, null deletes the key.
    patched = ctx.kube.patch(cnpg.CLUSTER, namespace, name, {"spec": {"postgresql": {"parameters": changes}}},
                             dry_run=dry_run)
    after = {k: str(v) for k, v in ((patched.get("spec", {}).get("postgresql") or {}).get("parameters") or {}).items()}
    # CloudNativePG's defaulting webhook fills in the parameters it always sets (archive_mode,
    # wal_level, ...): removing one of those brings back its default, which the answer says.
    restored = {k: after[k] for k, v in changes.items() if v is None and k in after}
    result = {
        "name": name, "namespace": namespace, "dry_run": dry_run,
        "changed": sorted(k for k, v in changes.items() if v is not None and previous.get(k) != v),
        "removed": sorted(k for k, v in changes.items() if v is None and k not in after),
        "parameters": after,
        "note": "CloudNativePG reloads or restarts instances as each parameter requires.",
    }
    if restored:
        result["restored_defaults"] = restored
        result["note"] += (f" CloudNativePG sets {', '.join(sorted(restored))} itself: removing them restored its "
                           "default value.")
    return result


CLUSTER_SET_PARAMETERS = ToolSpec(
    name="cluster_set_parameters",
    title="Set PostgreSQL parameters",
    description=(
        "Set or remove postgresql.conf parameters of a cluster (value null removes one). Only the given "
        "parameters change; parameters CloudNativePG manages itself are refused."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE,
         "parameters": {"type": "object", "minProperties": 1, "maxProperties": 100,
                        "additionalProperties": {"type": ["string", "null"], "maxLength": 1024},
                        "description": "Parameter name → value (string), or null to remove"},
         "dry_run": DRY_RUN},
        ["name", "namespace", "parameters"],
    ),
    output_schema=obj(
        {"name": {"type": "string"}, "namespace": {"type": "string"}, "dry_run": {"type": "boolean"},
         "changed": {"type": "array", "items": {"type": "string"}}, "removed": {"type": "array", "items": {"type": "string"}},
         "restored_defaults": _STRING_MAP, "parameters": _STRING_MAP, "note": {"type": "string"}},
        ["name", "namespace", "dry_run", "changed", "removed", "parameters"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False),
    handler=_set_parameters,
)


# --- cluster_resize_storage -----------------------------------------------


def _resize(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name, size = args["namespace"], args["name"], args["size"]
    volume = args.get("volume", "data")
    dry_run = args["dry_run"]
    before = get_cluster_or_explain(ctx, namespace, name)
    key = "storage" if volume == "data" else "walStorage"
    current = (before.get("spec", {}).get(key) or {}).get("size")
    if current is None:
        raise ToolError(f"Cluster {name!r} has no separate WAL volume to resize" if volume == "wal"
                        else f"Cluster {name!r} has no storage size set")
    if quantity_bytes(size) < quantity_bytes(current):
        # CloudNativePG's validating webhook refuses every shrink ("can't shrink existing storage").
        raise ToolError(
            f"{size} is smaller than the current {current}: CloudNativePG only grows volumes and refuses to "
            "shrink them. To use smaller volumes, create a new cluster (e.g. cluster_restore from a backup)."
        )
    patched = ctx.kube.patch(cnpg.CLUSTER, namespace, name, {"spec": {key: {"size": size}}}, dry_run=dry_run)
    return {"name": name, "namespace": namespace, "dry_run": dry_run, "volume": volume,
            "previous_size": current, "size": (patched.get("spec", {}).get(key) or {}).get("size", size)}


CLUSTER_RESIZE_STORAGE = ToolSpec(
    name="cluster_resize_storage",
    title="Resize cluster storage",
    description=(
        "Grow the data (or WAL) volume size of a cluster; the operator expands each PVC if the storage class "
        "allows expansion. CloudNativePG never shrinks a volume."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE, "size": {**STORAGE_SIZE, "description": "New size, e.g. 20Gi"},
         "volume": {"type": "string", "enum": ["data", "wal"], "default": "data"},
         "dry_run": DRY_RUN},
        ["name", "namespace", "size"],
    ),
    output_schema=obj(
        {"name": {"type": "string"}, "namespace": {"type": "string"}, "dry_run": {"type": "boolean"},
         "volume": {"type": "string"}, "previous_size": {"type": "string"}, "size": {"type": "string"}},
        ["name", "namespace", "dry_run", "volume", "previous_size", "size"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False),
    handler=_resize,
)


# --- cluster_delete --------------------------------------------------------


def _delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    dry_run = args["dry_run"]
    kube = ctx.kube
    cluster = get_cluster_or_explain(ctx, namespace, name)
    # Only secrets this server created, recorded on the Cluster by name: deleting needs no
    # right to list or read secrets, and the operator's own (app, superuser, CA) are untouched.
    ours = cnpg.created_secrets(cluster)
    # Read first (nothing changes before the gate), so the question names everything that goes.
    also = f" and the {len(ours)} Secret(s) this server created for it" if ours else ""
    instances = (cluster.get("spec") or {}).get("instances")
    what = f"delete cluster {name!r} in namespace {namespace!r}" + (f" ({instances} instance(s), their volumes and "
                                                                     "services)" if instances else "") + also
    require_confirmation(ctx, args, name, ("check (dry run) whether it can " if dry_run else "") + what)
    kube.delete(cnpg.CLUSTER, namespace, name, dry_run=dry_run)
    removed = []
    for secret in ours:
        try:
            resources.delete_secret(kube, namespace, secret, dry_run=dry_run)
            removed.append(secret)
        except NotFound:
            pass  # already gone: nothing to clean up
    return {
        "deleted": not dry_run, "dry_run": dry_run, "name": name, "namespace": namespace,
        "removes": {"cluster": name, "secrets_created_by_this_server": removed},
        "note": "Pods, PVCs, services and operator-managed secrets are owned by the Cluster and removed with it.",
    }


CLUSTER_DELETE = ToolSpec(
    name="cluster_delete",
    title="Delete a PostgreSQL cluster",
    description=(
        "Delete a cluster and the secrets this server created for it. Irreversible: all data in the cluster is "
        "lost. Requires confirm equal to the cluster name; use dry_run to see what would be removed."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE,
         "confirm": confirmation("Repeat the cluster name to confirm the deletion"),
         "dry_run": DRY_RUN},
        ["name", "namespace", "confirm"],
    ),
    output_schema=obj(
        {"deleted": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "name": {"type": "string"},
         "namespace": {"type": "string"}, "removes": {"type": "object"}, "note": {"type": "string"}},
        ["deleted", "dry_run", "name", "namespace", "removes"],
    ),
    hints=ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False),
    handler=_delete,
)

CLUSTER_TOOLS = [
    CLUSTER_LIST, CLUSTER_GET, CLUSTER_CREATE, CLUSTER_SCALE, CLUSTER_SET_PARAMETERS, CLUSTER_RESIZE_STORAGE,
    CLUSTER_DELETE,
]
