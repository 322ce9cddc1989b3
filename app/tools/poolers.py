"""PgBouncer connection poolers (CloudNativePG `Pooler` objects): list, create, scale, delete."""

from __future__ import annotations

from typing import Any

from app.kube import cnpg, resources
from app.tools.clusters import get_cluster_or_explain
from app.tools.common import (
    missing_namespace,
    scale_schemas,
    get_or_explain,
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
from app.tools.errors import ToolError
from app.tools.spec import ToolHints, ToolSpec

PGBOUNCER_PORT = 5432  # the operator's PgBouncer listen port, exposed by the pooler's Service
MAX_POOLER_INSTANCES = 10

# The only PgBouncer options CloudNativePG lets a Pooler set; it manages every other one and its
# validating webhook rejects the rest as "Invalid or reserved parameter" (v1.30.0
# internal/webhook/v1/pooler_webhook.go, listed in docs/src/connection_pooling.md). Checked here
# too because the webhook is not always installed, and then PgBouncer would get a broken config.
ALLOWED_PGBOUNCER_PARAMETERS = frozenset({
    "application_name_add_host", "auth_type", "autodb_idle_timeout", "cancel_wait_timeout", "client_idle_timeout",
    "client_login_timeout", "client_tls_ciphers", "client_tls_sslmode", "client_tls13_ciphers", "default_pool_size",
    "disable_pqexec", "dns_max_ttl", "dns_nxdomain_ttl", "idle_transaction_timeout", "ignore_startup_parameters",
    "listen_backlog", "log_connections", "log_disconnections", "log_pooler_errors", "log_stats", "max_client_conn",
    "max_db_connections", "max_packet_size", "max_prepared_statements", "max_user_connections", "min_pool_size",
    "pkt_buf", "query_timeout", "query_wait_timeout", "reserve_pool_size", "reserve_pool_timeout", "sbuf_loopcnt",
    "server_check_delay", "server_check_query", "server_connect_timeout", "server_fast_close", "server_idle_timeout",
    "server_lifetime", "server_login_retry", "server_reset_query", "server_reset_query_always", "server_round_robin",
    "server_tls_ciphers", "server_tls13_ciphers", "server_tls_protocols", "server_tls_sslmode", "stats_period",
    "suspend_timeout", "tcp_defer_accept", "tcp_socket_buffer", "tcp_keepalive", "tcp_keepcnt", "tcp_keepidle",
    "tcp_keepintvl", "tcp_user_timeout", "track_extra_parameters", "verbose",
})

# What a service (or a pooler) of each type routes to; CNPG names them <cluster>-rw, -ro and -r.
SERVICE_ROUTES = {"rw": "the primary (read-write)", "ro": "replicas only (read-only)", "r": "any instance (read)"}

# The pooler's Deployment and Service take its name, so it must be a DNS-1035 label.
POOLER_NAME = {
    "type": "string", "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63,
    "description": "Pooler name; also its Service name",
}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

_SUMMARY = obj(
    {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "cluster": {"type": "string"},
        "type": {"type": "string"},
        "instances": {"type": "integer"},
        "pool_mode": {"type": "string"},
        "status_instances": nullable({"type": "integer"}),
        "phase": nullable({"type": "string"}),
        "phase_reason": nullable({"type": "string"}),
        "paused": {"type": "boolean"},
        "service": {"type": "string"},
        "parameters": _STRING_MAP,
        "age": nullable({"type": "string"}),
    },
    ["name", "namespace", "cluster", "type", "instances", "pool_mode", "status_instances", "phase", "phase_reason",
     "paused", "service", "parameters", "age"],
)


def summary(pooler: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = pooler.get("metadata", {}), pooler.get("spec", {}), pooler.get("status") or {}
    pgbouncer = spec.get("pgbouncer") or {}
    return {
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "cluster": (spec.get("cluster") or {}).get("name", ""),
        # CRD defaults (type rw, 1 instance, session mode) are applied by the API server; repeated
        # here for objects written before those defaults existed.
        "type": spec.get("type", "rw"),
        "instances": int(spec.get("instances", 1)),
        "pool_mode": pgbouncer.get("poolMode", "session"),
        "status_instances": int(status["instances"]) if "instances" in status else None,
        "phase": status.get("phase"),
        # Why the operator holds it back ("inactive": e.g. its auth Secret does not exist yet).
        "phase_reason": status.get("phaseReason") or None,
        "paused": bool(pgbouncer.get("paused", False)),
        "service": meta.get("name", ""),  # the operator names the pooler's Service after it
        "parameters": {k: str(v) for k, v in (pgbouncer.get("parameters") or {}).items()},
        "age": age(meta.get("creationTimestamp")),
    }


def poolers_of(ctx: ToolContext, namespace: str, cluster: str) -> list[dict[str, Any]]:
    """The cluster's poolers, sorted by name."""
    found = ctx.kube.list(cnpg.POOLER, namespace)
    mine = [p for p in found if ((p.get("spec") or {}).get("cluster") or {}).get("name") == cluster]
    return sorted(mine, key=lambda p: p["metadata"]["name"])


def _get_pooler(ctx: ToolContext, namespace: str, name: str) -> dict[str, Any]:
    """The Pooler, or a not-found error that says what does exist."""
    return get_or_explain(ctx, cnpg.POOLER, namespace, name)


# --- pooler_list -----------------------------------------------------------


def _list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster = args["namespace"], args.get("cluster")
    kube = ctx.kube
    if not resources.namespace_exists(kube, namespace):
        raise missing_namespace(ctx.kube, namespace)
    if cluster is None:
        found, scope = kube.list(cnpg.POOLER, namespace), f"namespace {namespace}"
    else:
        found, scope = poolers_of(ctx, namespace, cluster), f"cluster {cluster} in namespace {namespace}"
        if not found:
            # A pooler outlives its cluster, so only an empty answer needs the cluster to exist.
            get_cluster_or_explain(ctx, namespace, cluster)
    poolers = sorted((summary(p) for p in found), key=lambda p: p["name"])
    return {"scope": scope, "count": len(poolers), "poolers": poolers}


POOLER_LIST = ToolSpec(
    name="pooler_list",
    title="List PgBouncer poolers",
    description=(
        "List the PgBouncer connection poolers of a namespace, or of one cluster, with their type (rw/ro/r), "
        "desired and running instances, pool mode, parameters and Service name. Applications connect to the "
        "pooler's Service instead of the cluster's."
    ),
    input_schema=obj(
        {"namespace": NAMESPACE,
         "cluster": {**CLUSTER_NAME, "description": "Only the poolers of this cluster (default: all in the namespace)"}},
        ["namespace"],
    ),
    output_schema=obj(
        {"scope": {"type": "string"}, "count": {"type": "integer"}, "poolers": {"type": "array", "items": _SUMMARY}},
        ["scope", "count", "poolers"],
    ),
    hints=ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False),
    handler=_list,
)


# --- pooler_create ---------------------------------------------------------


def _check_parameters(parameters: dict[str, str]) -> None:
    refused = sorted(set(parameters) - ALLOWED_PGBOUNCER_PARAMETERS)
    if refused:
        raise ToolError(
            f"CloudNativePG manages or does not support these PgBouncer parameters: {', '.join(refused)}. "
            f"Allowed: {', '.join(sorted(ALLOWED_PGBOUNCER_PARAMETERS))}"
        )


def _manifest(args: dict[str, Any], name: str) -> dict[str, Any]:
    pgbouncer: dict[str, Any] = {"poolMode": args.get("pool_mode", "session")}
    if args.get("parameters"):
        pgbouncer["parameters"] = dict(args["parameters"])
    return {
        "apiVersion": f"{cnpg.GROUP}/{cnpg.VERSION}",
        "kind": "Pooler",
        "metadata": {"name": name, "namespace": args["namespace"], "labels": {cnpg.LABEL_MANAGED_BY: cnpg.MANAGED_BY}},
        "spec": {
            "cluster": {"name": args["cluster"]},
            "type": args.get("type", "rw"),
            "instances": args.get("instances", 1),
            "pgbouncer": pgbouncer,
        },
    }


def _create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster = args["namespace"], args["cluster"]
    kind = args.get("type", "rw")
    name = args.get("name") or f"{cluster}-pooler-{kind}"
    _check_parameters(args.get("parameters") or {})
    dry_run = args["dry_run"]
    kube = ctx.kube
    get_cluster_or_explain(ctx, namespace, cluster)
    # CloudNativePG forbids a pooler named like any cluster of its namespace (docs: connection_pooling.md).
    clusters = {c["metadata"]["name"] for c in kube.list(cnpg.CLUSTER, namespace)}
    if name in clusters:
        raise ToolError(f"A pooler cannot have the name of a cluster in its namespace: {name!r} is a cluster; "
                        "choose another name")
    created = kube.create(cnpg.POOLER, namespace, _manifest(args, name), dry_run=dry_run)
    return {
        "created": not dry_run,
        "dry_run": dry_run,
        "pooler": summary(created),
        "spec": created.get("spec", {}),
        "service": {"name": name, "fqdn": f"{name}.{namespace}.svc", "port": PGBOUNCER_PORT,
                    "routes_to": SERVICE_ROUTES[kind]},
        "next_step": "The operator now deploys PgBouncer; follow it with pooler_list and point clients at the service.",
    }


POOLER_CREATE = ToolSpec(
    name="pooler_create",
    title="Create a PgBouncer pooler",
    description=(
        "Create a PgBouncer connection pooler in front of a cluster's rw (primary), ro (replicas) or r (any "
        "instance) service, with its pool mode, number of PgBouncer instances and PgBouncer parameters. "
        "The name defaults to <cluster>-pooler-<type>; use dry_run to see what the API server would accept."
    ),
    input_schema=obj(
        {
            "cluster": CLUSTER_NAME,
            "namespace": NAMESPACE,
            "name": {**POOLER_NAME, "description": "Pooler (and Service) name; default <cluster>-pooler-<type>"},
            "type": {"type": "string", "enum": list(SERVICE_ROUTES), "default": "rw",
                     "description": "rw: to the primary; ro: to replicas only; r: to any instance"},
            "instances": {"type": "integer", "minimum": 1, "maximum": MAX_POOLER_INSTANCES, "default": 1,
                          "description": "Number of PgBouncer pods"},
            "pool_mode": {"type": "string", "enum": ["session", "transaction"], "default": "session",
                          "description": "PgBouncer pool mode: session (safe default) or transaction"},
            "parameters": {
                "type": "object", "maxProperties": 60,
                "propertyNames": {"pattern": "^[a-z0-9_]{1,64}$"},
                "additionalProperties": {"type": "string", "maxLength": 1024},
                "description": "PgBouncer settings, e.g. {\"max_client_conn\": \"1000\", \"default_pool_size\": \"10\"}; "
                               "only those CloudNativePG allows",
            },
            "dry_run": DRY_RUN,
        },
        ["cluster", "namespace"],
    ),
    output_schema=obj(
        {"created": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "pooler": _SUMMARY,
         "spec": {"type": "object"}, "service": {"type": "object"}, "next_step": {"type": "string"}},
        ["created", "dry_run", "pooler", "spec", "service"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
    handler=_create,
)


# --- pooler_scale ----------------------------------------------------------


def _scale(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name, instances = args["namespace"], args["name"], args["instances"]
    dry_run = args["dry_run"]
    before = _get_pooler(ctx, namespace, name)
    patched = ctx.kube.patch(cnpg.POOLER, namespace, name, {"spec": {"instances": instances}}, dry_run=dry_run)
    return {
        "name": name, "namespace": namespace, "dry_run": dry_run,
        "previous_instances": int(before.get("spec", {}).get("instances", 1)),
        "instances": int(patched.get("spec", {}).get("instances", instances)),
    }


_POOLER_SCALE_SCHEMAS = scale_schemas(POOLER_NAME, MAX_POOLER_INSTANCES)
POOLER_SCALE = ToolSpec(
    name="pooler_scale",
    title="Scale a PgBouncer pooler",
    description=(
        "Set the number of PgBouncer pods of a pooler (1 to 10). Clients connected to a removed pod reconnect "
        "through the Service; use dry_run to preview."
    ),
    input_schema=_POOLER_SCALE_SCHEMAS[0],
    output_schema=_POOLER_SCALE_SCHEMAS[1],
    # Pooler pods hold no data: scaling down only moves client connections.
    hints=ToolHints(read_only=False, destructive=False, idempotent=True, open_world=False),
    handler=_scale,
)


# --- pooler_delete ---------------------------------------------------------


def _delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    require_confirmation(ctx, args, name, f"delete pooler {name!r}")
    dry_run = args["dry_run"]
    pooler = _get_pooler(ctx, namespace, name)
    ctx.kube.delete(cnpg.POOLER, namespace, name, dry_run=dry_run)
    return {
        "deleted": not dry_run, "dry_run": dry_run, "name": name, "namespace": namespace,
        "cluster": summary(pooler)["cluster"],
        "note": (f"Clients connecting through Service {name!r} lose their connections; the cluster itself is "
                 "untouched. The pooler's Deployment, Service and configuration Secret are owned by it and removed "
                 "with it."),
    }


POOLER_DELETE = ToolSpec(
    name="pooler_delete",
    title="Delete a PgBouncer pooler",
    description=(
        "Delete a PgBouncer pooler; applications connecting through its Service are cut off, the cluster and its "
        "data are not affected. Requires confirm equal to the pooler name; use dry_run to preview."
    ),
    input_schema=obj(
        {"name": POOLER_NAME, "namespace": NAMESPACE,
         "confirm": confirmation("Repeat the pooler name to confirm the deletion"), "dry_run": DRY_RUN},
        ["name", "namespace", "confirm"],
    ),
    output_schema=obj(
        {"deleted": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "name": {"type": "string"},
         "namespace": {"type": "string"}, "cluster": {"type": "string"}, "note": {"type": "string"}},
        ["deleted", "dry_run", "name", "namespace", "cluster"],
    ),
    hints=ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False),
    handler=_delete,
)

POOLERS_TOOLS: list[ToolSpec] = [POOLER_LIST, POOLER_CREATE, POOLER_SCALE, POOLER_DELETE]
