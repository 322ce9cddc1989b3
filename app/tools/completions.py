"""Argument completion (MCP `completion/complete`) for namespaces, clusters, instances and backups."""

from __future__ import annotations

from typing import Any

from app.kube import KubeError, cnpg, resources
from app.kube import backups as kube_backups
from app.tools.common import kube_of
from app.tools.context import ToolContext

MAX_VALUES = 100
CLUSTER_ARGUMENTS = ("name", "cluster", "cluster_name", "source_cluster")
INSTANCE_ARGUMENTS = ("instance", "pod")
BACKUP_ARGUMENTS = ("backup", "backup_name")


def complete(argument: str, value: str, context: dict[str, str], ctx: ToolContext) -> dict[str, Any]:
    """The `completion` object: values starting with `value`, at most 100, sorted.

    Kubernetes errors give no suggestions rather than an error: completion is a convenience.
    """
    try:
        candidates = _candidates(argument, context, ctx)
    except KubeError:
        candidates = []
    matching = sorted(c for c in set(candidates) if c.startswith(value))
    return {"values": matching[:MAX_VALUES], "total": len(matching), "hasMore": len(matching) > MAX_VALUES}


def _candidates(argument: str, context: dict[str, str], ctx: ToolContext) -> list[str]:
    kube = kube_of(ctx)
    allowed = ctx.settings.namespaces if ctx.settings else ()
    namespace = context.get("namespace")
    if argument == "namespace":
        if allowed:
            return list(allowed)
        return [c["metadata"]["namespace"] for c in resources.list_clusters(kube, None, None, ctx.identity)]
    if namespace is None or (allowed and namespace not in allowed):
        return []
    if argument in CLUSTER_ARGUMENTS:
        return [c["metadata"]["name"] for c in resources.list_clusters(kube, namespace, None, ctx.identity)]
    cluster = next((context[k] for k in CLUSTER_ARGUMENTS if context.get(k)), None)
    if cluster is None:
        return []
    if argument in INSTANCE_ARGUMENTS:
        pods = resources.list_pods(kube, namespace, cnpg.instance_selector(cluster), ctx.identity)
        return [p["metadata"]["name"] for p in pods]
    if argument in BACKUP_ARGUMENTS:
        return [b["metadata"]["name"] for b in kube_backups.list_backups(kube, namespace, cluster, ctx.identity)]
    return []
