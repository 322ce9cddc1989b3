"""Diagnosing a cluster: its pods, recent events, instance logs, and how to connect to it."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from app.kube import NotFound, cnpg, resources
from app.kube import backups as kube_backups
from app.kube import observability as kube_obs
from app.tools.clusters import get_cluster_or_explain
from app.tools.common import CLUSTER_NAME, NAMESPACE, age, nullable, obj
from app.tools.context import ToolContext
from app.tools.errors import ToolError
from app.tools.poolers import PGBOUNCER_PORT, SERVICE_ROUTES, poolers_of
from app.tools.spec import ToolHints, ToolSpec

POSTGRES_PORT = 5432
LABEL_JOB_ROLE = "cnpg.io/jobRole"
# Caps one answer at what a model can use (5000 CNPG JSON lines are ~2 MB); the newest lines are kept.
MAX_LOG_BYTES = 512 * 1024

_READ = ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False)
_STRING = {"type": "string"}


def _natural(name: str) -> tuple[str, int]:
    """Sort key putting pg-2 before pg-10."""
    match = re.fullmatch(r"(.*?)(\d+)", name)
    return (match.group(1), int(match.group(2))) if match else (name, -1)


# --- cluster_pods ----------------------------------------------------------


def _component(labels: dict[str, str]) -> str:
    if labels.get(LABEL_JOB_ROLE):
        return "job"
    return labels.get(cnpg.LABEL_POD_ROLE) or "other"  # "instance" or "pooler" as CNPG labels them


def _reason(status: dict[str, Any]) -> str | None:
    """Why a container is not running (CrashLoopBackOff, OOMKilled, ...), as kubectl shows it."""
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        for key in ("waiting", "terminated"):
            if (state.get(key) or {}).get("reason"):
                return str(state[key]["reason"])
    return status.get("reason")


def _pod_row(pod: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status") or {}
    labels = meta.get("labels") or {}
    return {
        "name": meta.get("name", ""),
        "component": _component(labels),
        "role": labels.get(cnpg.LABEL_INSTANCE_ROLE) or labels.get(cnpg.LABEL_LEGACY_ROLE),
        "ready": any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []),
        "phase": status.get("phase") or "Unknown",
        "reason": _reason(status),
        "node": spec.get("nodeName"),
        "restarts": sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or []),
        "age": age(meta.get("creationTimestamp")),
    }


def _pods(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    cluster = get_cluster_or_explain(ctx, namespace, name)
    found = resources.list_pods(ctx.kube, namespace, f"{cnpg.LABEL_CLUSTER}={name}")
    order = {"instance": 0, "pooler": 1, "job": 2}
    rows = sorted((_pod_row(p) for p in found), key=lambda r: (order.get(r["component"], 3), _natural(r["name"])))
    status = cluster.get("status") or {}
    return {
        "cluster": name, "namespace": namespace,
        "current_primary": status.get("currentPrimary"), "target_primary": status.get("targetPrimary"),
        "count": len(rows), "pods": rows,
    }


CLUSTER_PODS = ToolSpec(
    name="cluster_pods",
    title="List a cluster's pods",
    description=(
        "List the pods of a cluster (PostgreSQL instances first, then its PgBouncer and job pods) with role "
        "(primary/replica), readiness, phase, waiting reason, node, restart count and age. Use it to see which "
        "instance is primary and which pods are unhealthy before reading their logs with instance_logs."
    ),
    input_schema=obj({"name": CLUSTER_NAME, "namespace": NAMESPACE}, ["name", "namespace"]),
    output_schema=obj(
        {
            "cluster": _STRING, "namespace": _STRING,
            "current_primary": nullable(_STRING), "target_primary": nullable(_STRING),
            "count": {"type": "integer"},
            "pods": {"type": "array", "items": obj({
                "name": _STRING, "component": {"type": "string", "enum": ["instance", "pooler", "job", "other"]},
                "role": nullable(_STRING), "ready": {"type": "boolean"}, "phase": _STRING,
                "reason": nullable(_STRING), "node": nullable(_STRING), "restarts": {"type": "integer"},
                "age": nullable(_STRING),
            }, ["name", "component", "role", "ready", "phase", "reason", "node", "restarts", "age"])},
        },
        ["cluster", "namespace", "current_primary", "target_primary", "count", "pods"],
    ),
    hints=_READ,
    handler=_pods,
)


# --- cluster_events --------------------------------------------------------


def _when(event: dict[str, Any]) -> datetime:
    """When the event last happened; the fields differ between core/v1 and events.k8s.io writers."""
    series = event.get("series") or {}
    for value in (event.get("lastTimestamp"), series.get("lastObservedTime"), event.get("eventTime"),
                  event.get("firstTimestamp"), (event.get("metadata") or {}).get("creationTimestamp")):
        if value:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return datetime.min.replace(tzinfo=timezone.utc)


def _involved(ctx: ToolContext, namespace: str, cluster: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of the Cluster and every object that belongs to it."""
    kube, name = ctx.kube, cluster["metadata"]["name"]
    selector = f"{cnpg.LABEL_CLUSTER}={name}"
    objects = {("Cluster", name)}
    # Instance names from the status too: a pod deleted during a failover still has its events.
    for pod in (cluster.get("status") or {}).get("instanceNames") or []:
        objects.add(("Pod", pod))
    objects |= {("Pod", p["metadata"]["name"]) for p in resources.list_pods(kube, namespace, selector)}
    objects |= {("PersistentVolumeClaim", p["metadata"]["name"])
                for p in kube_obs.list_pvcs(kube, namespace, selector)}
    objects |= {("Job", j["metadata"]["name"]) for j in kube_obs.list_jobs(kube, namespace, selector)}
    objects |= {("Backup", b["metadata"]["name"]) for b in kube_backups.list_backups(kube, namespace, name)}
    for pooler in poolers_of(ctx, namespace, name):
        # The operator runs a pooler as a Deployment of the same name.
        objects |= {("Pooler", pooler["metadata"]["name"]), ("Deployment", pooler["metadata"]["name"])}
    return objects


def _event_row(event: dict[str, Any]) -> dict[str, Any]:
    involved = event.get("involvedObject") or {}
    source = event.get("source") or {}
    series = event.get("series") or {}
    return {
        "last_seen": _when(event).isoformat().replace("+00:00", "Z"),
        "type": event.get("type") or "Normal",
        "reason": event.get("reason") or "",
        "object": f"{involved.get('kind', '')}/{involved.get('name', '')}",
        "message": (event.get("message") or "").strip(),
        "count": int(event.get("count") or series.get("count") or 1),
        "source": source.get("component") or event.get("reportingComponent") or None,
    }


def _events(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    limit, wanted_type = args.get("limit", 20), args.get("type")
    cluster = get_cluster_or_explain(ctx, namespace, name)
    objects = _involved(ctx, namespace, cluster)
    matched = [
        e for e in kube_obs.list_namespace_events(ctx.kube, namespace)
        if ((e.get("involvedObject") or {}).get("kind"), (e.get("involvedObject") or {}).get("name")) in objects
        and (wanted_type is None or (e.get("type") or "Normal") == wanted_type)
    ]
    matched.sort(key=_when, reverse=True)
    return {
        "cluster": name, "namespace": namespace, "matched": len(matched),
        "count": min(limit, len(matched)), "events": [_event_row(e) for e in matched[:limit]],
    }


CLUSTER_EVENTS = ToolSpec(
    name="cluster_events",
    title="Show a cluster's recent events",
    description=(
        "Show recent Kubernetes events, newest first, of a cluster and of everything that belongs to it: its "
        "pods, volume claims, jobs, backups and poolers. Use type=Warning to see only problems (failed "
        "scheduling, image pulls, probes, backups)."
    ),
    input_schema=obj(
        {"name": CLUSTER_NAME, "namespace": NAMESPACE,
         "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20,
                   "description": "Most events to return"},
         "type": {"type": "string", "enum": ["Normal", "Warning"], "description": "Only events of this type"}},
        ["name", "namespace"],
    ),
    output_schema=obj(
        {
            "cluster": _STRING, "namespace": _STRING, "matched": {"type": "integer"}, "count": {"type": "integer"},
            "events": {"type": "array", "items": obj({
                "last_seen": _STRING, "type": _STRING, "reason": _STRING, "object": _STRING, "message": _STRING,
                "count": {"type": "integer"}, "source": nullable(_STRING),
            }, ["last_seen", "type", "reason", "object", "message", "count", "source"])},
        },
        ["cluster", "namespace", "matched", "count", "events"],
    ),
    hints=_READ,
    handler=_events,
)


# --- instance_logs ---------------------------------------------------------


def _instance_pod(ctx: ToolContext, namespace: str, cluster: str, instance: str) -> dict[str, Any]:
    """The instance's pod, refused unless it belongs to the cluster and runs PostgreSQL."""
    try:
        pod = resources.get_pod(ctx.kube, namespace, instance)
    except NotFound:
        pods = resources.list_pods(ctx.kube, namespace,
                                   cnpg.instance_selector(cluster))
        names = sorted((p["metadata"]["name"] for p in pods), key=_natural)
        there = f"its instances: {', '.join(names)}" if names else "it has no instance pods"
        raise ToolError(f"Instance {instance!r} of cluster {cluster!r} not found; {there}") from None
    labels = pod.get("metadata", {}).get("labels") or {}
    if labels.get(cnpg.LABEL_CLUSTER) != cluster:
        raise ToolError(f"Pod {instance!r} does not belong to cluster {cluster!r} (label {cnpg.LABEL_CLUSTER} is "
                        f"{labels.get(cnpg.LABEL_CLUSTER)!r}); only a cluster's own instances can be read")
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    if kube_obs.POSTGRES_CONTAINER not in containers:
        raise ToolError(f"Pod {instance!r} is not a PostgreSQL instance (containers: {', '.join(map(str, containers))}); "
                        "use cluster_pods to find the instances")
    return pod


def _trim(text: str) -> tuple[list[str], bool]:
    """The log as lines, keeping the newest ones within MAX_LOG_BYTES."""
    lines = text.splitlines()
    kept, size = [], 0
    for line in reversed(lines):
        size += len(line.encode()) + 1
        if size > MAX_LOG_BYTES:
            break
        kept.append(line)
    kept.reverse()
    return kept, len(kept) < len(lines)


def _logs(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster = args["namespace"], args["cluster"]
    instance = args["instance"]
    if instance.isdigit():  # as `kubectl cnpg`: instance 2 is pod <cluster>-2
        instance = f"{cluster}-{int(instance)}"
    get_cluster_or_explain(ctx, namespace, cluster)
    pod = _instance_pod(ctx, namespace, cluster, instance)
    node = (pod.get("spec") or {}).get("nodeName")
    try:
        text = kube_obs.read_container_log(
            ctx.kube, namespace, instance, kube_obs.POSTGRES_CONTAINER, tail_lines=args.get("tail_lines", 100),
            since_seconds=args.get("since_seconds"), previous=bool(args.get("previous", False)))
    except kube_obs.KubeletUnreachable as exc:
        raise ToolError(f"logs unavailable: the API server could not reach the node's kubelet "
                        f"(node {node!r}: {exc}); retry later, or read the logs from your log collector") from None
    except NotFound:
        if node:
            # The pod was just read, so what is missing is its Node object.
            raise ToolError(f"logs unavailable: node {node!r} of pod {instance!r} is not registered with the "
                            "API server (removed or lost)") from None
        raise
    lines, truncated = _trim(text)
    note = None
    if not node:
        note = f"Pod {instance!r} is not scheduled on any node yet, so its container has not run and has no logs."
    elif truncated:
        note = f"Only the newest {len(lines)} lines fit in one answer; narrow since_seconds or tail_lines."
    return {
        "cluster": cluster, "namespace": namespace, "pod": instance, "container": kube_obs.POSTGRES_CONTAINER,
        "node": node, "line_count": len(lines), "truncated": truncated, "lines": lines, "note": note,
    }


INSTANCE_LOGS = ToolSpec(
    name="instance_logs",
    title="Read a PostgreSQL instance's logs",
    description=(
        "Read the newest log lines of the postgres container of one instance of a cluster (CloudNativePG logs "
        "JSON lines). Give the pod name (e.g. pg-2) or just its number; use previous=true after a crash to read "
        "the log of the container that died."
    ),
    input_schema=obj(
        {
            "cluster": CLUSTER_NAME,
            "namespace": NAMESPACE,
            "instance": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63,
                         "description": "Instance pod name (e.g. pg-2) or instance number (2)"},
            "tail_lines": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 100,
                           "description": "Newest lines to return"},
            "since_seconds": {"type": "integer", "minimum": 1, "maximum": 2592000,
                              "description": "Only lines from the last N seconds"},
            "previous": {"type": "boolean", "default": False,
                         "description": "Read the previous (crashed or restarted) container's log"},
        },
        ["cluster", "namespace", "instance"],
    ),
    output_schema=obj(
        {"cluster": _STRING, "namespace": _STRING, "pod": _STRING, "container": _STRING, "node": nullable(_STRING),
         "line_count": {"type": "integer"}, "truncated": {"type": "boolean"},
         "lines": {"type": "array", "items": _STRING}, "note": nullable(_STRING)},
        ["cluster", "namespace", "pod", "container", "node", "line_count", "truncated", "lines", "note"],
    ),
    hints=_READ,
    handler=_logs,
)


# --- cluster_connection_info -----------------------------------------------


def _bootstrap_source(spec: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap section naming the application database, owner and secret, in CNPG's precedence
    (recovery, then pg_basebackup, then initdb: api/v1/cluster_funcs.go GetApplication*)."""
    bootstrap = spec.get("bootstrap") or {}
    merged: dict[str, Any] = {}
    for section in ("initdb", "pg_basebackup", "recovery"):  # later ones win
        for key, value in (bootstrap.get(section) or {}).items():
            if key in ("database", "owner", "secret") and value:
                merged[key] = value
    return merged


def _connection_info(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name = args["namespace"], args["name"]
    cluster = get_cluster_or_explain(ctx, namespace, name)
    spec = cluster.get("spec") or {}
    source = _bootstrap_source(spec)
    database = source.get("database") or "app"
    owner = source.get("owner") or database  # CNPG's default owner is the database name
    app_secret = (source.get("secret") or {}).get("name") or f"{name}-app"
    superuser_secret = None
    if spec.get("enableSuperuserAccess"):
        superuser_secret = (spec.get("superuserSecret") or {}).get("name") or f"{name}-superuser"

    managed = (spec.get("managed") or {}).get("services") or {}
    disabled = set(managed.get("disabledDefaultServices") or [])
    services = [
        {"name": f"{name}-{kind}", "fqdn": f"{name}-{kind}.{namespace}.svc", "port": POSTGRES_PORT,
         "routes_to": routes_to}
        for kind, routes_to in SERVICE_ROUTES.items() if kind not in disabled
    ]
    for extra in managed.get("additional") or []:
        svc_name = ((extra.get("serviceTemplate") or {}).get("metadata") or {}).get("name")
        kind = extra.get("selectorType")
        if svc_name:
            services.append({"name": svc_name, "fqdn": f"{svc_name}.{namespace}.svc", "port": POSTGRES_PORT,
                             "routes_to": SERVICE_ROUTES.get(kind, str(kind))})
    poolers = [
        {"name": p["metadata"]["name"], "fqdn": f"{p['metadata']['name']}.{namespace}.svc", "port": PGBOUNCER_PORT,
         "routes_to": SERVICE_ROUTES.get((p.get("spec") or {}).get("type", "rw"), "?"),
         "pool_mode": ((p.get("spec") or {}).get("pgbouncer") or {}).get("poolMode", "session")}
        for p in poolers_of(ctx, namespace, name)
    ]
    host = f"{name}-rw.{namespace}.svc"
    password = f"$(kubectl get secret {app_secret} -n {namespace} -o jsonpath='{{.data.password}}' | base64 -d)"
    return {
        "cluster": name, "namespace": namespace, "database": database, "owner": owner, "port": POSTGRES_PORT,
        "services": services, "poolers": poolers,
        "secrets": {"application": app_secret, "superuser": superuser_secret},
        "psql_example": f'PGPASSWORD="{password}" psql "host={host} port={POSTGRES_PORT} dbname={database} '
                        f'user={owner} sslmode=require"',
        "port_forward_example": f"kubectl port-forward -n {namespace} svc/{name}-rw {POSTGRES_PORT}:{POSTGRES_PORT}",
        "note": ("Service names resolve inside the Kubernetes cluster only; from elsewhere run the port-forward "
                 "and use host=127.0.0.1. The password stays in the secret: this server never reads secrets. "
                 "The secret also holds ready-made uri and jdbc-uri keys."),
    }


CLUSTER_CONNECTION_INFO = ToolSpec(
    name="cluster_connection_info",
    title="How to connect to a cluster",
    description=(
        "Show how applications connect to a cluster: the rw/ro/r service host names and port, any PgBouncer "
        "pooler services, the application database and owner, and the names of the Secrets holding the "
        "credentials, plus a psql command that reads the password from the secret. Never returns a password."
    ),
    input_schema=obj({"name": CLUSTER_NAME, "namespace": NAMESPACE}, ["name", "namespace"]),
    output_schema=obj(
        {
            "cluster": _STRING, "namespace": _STRING, "database": _STRING, "owner": _STRING,
            "port": {"type": "integer"},
            "services": {"type": "array", "items": obj({
                "name": _STRING, "fqdn": _STRING, "port": {"type": "integer"}, "routes_to": _STRING,
            }, ["name", "fqdn", "port", "routes_to"])},
            "poolers": {"type": "array", "items": obj({
                "name": _STRING, "fqdn": _STRING, "port": {"type": "integer"}, "routes_to": _STRING,
                "pool_mode": _STRING,
            }, ["name", "fqdn", "port", "routes_to", "pool_mode"])},
            "secrets": obj({"application": _STRING, "superuser": nullable(_STRING)}, ["application", "superuser"]),
            "psql_example": _STRING, "port_forward_example": _STRING, "note": _STRING,
        },
        ["cluster", "namespace", "database", "owner", "port", "services", "poolers", "secrets", "psql_example"],
    ),
    hints=_READ,
    handler=_connection_info,
)

OBSERVABILITY_TOOLS: list[ToolSpec] = [CLUSTER_PODS, CLUSTER_EVENTS, INSTANCE_LOGS, CLUSTER_CONNECTION_INFO]
