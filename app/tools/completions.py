"""Argument completion (MCP `completion/complete`) for contexts, namespaces, clusters, instances and backups."""

from __future__ import annotations

from typing import Any

from app.kube import ALL_NAMESPACES, KubeError, cnpg, resources
from app.kube import backups as kube_backups
from app.tools.context import ToolContext

MAX_VALUES = 100
CONTEXT_ARGUMENT = "context"
CLUSTER_ARGUMENTS = ("name", "cluster", "cluster_name", "source_cluster")
INSTANCE_ARGUMENTS = ("instance", "pod")
BACKUP_ARGUMENTS = ("backup", "backup_name")


def complete(argument: str, value: str, context: dict[str, str], ctx: ToolContext) -> dict[str, Any]:
    """The `completion` object: values starting with `value`, at most 100, sorted.

    `context` holds the arguments already filled in; a `context` among them (the kubeconfig
    context) aims the lookups there. Kubernetes errors — a context or namespace not served
    included — give no suggestions rather than an error: completion is a convenience.
    """
    try:
        if context.get(CONTEXT_ARGUMENT) and argument != CONTEXT_ARGUMENT:
            ctx = ctx.in_context(context[CONTEXT_ARGUMENT])
        candidates = _candidates(argument, context, ctx)
    except KubeError:
        candidates = []
    matching = sorted(c for c in set(candidates) if c.startswith(value))
    return {"values": matching[:MAX_VALUES], "total": len(matching), "hasMore": len(matching) > MAX_VALUES}


def _candidates(argument: str, context: dict[str, str], ctx: ToolContext) -> list[str]:
    kube = ctx.kube
    namespace = context.get("namespace")
    if argument == CONTEXT_ARGUMENT:
        return kube.served_contexts()
    if argument == "namespace":
        if kube.namespaces:
            return list(kube.namespaces)
        return [c["metadata"]["namespace"] for c in kube.list(cnpg.CLUSTER, ALL_NAMESPACES)]
    if namespace is None:
        return []
    if argument in CLUSTER_ARGUMENTS:
        return [c["metadata"]["name"] for c in kube.list(cnpg.CLUSTER, namespace)]
    cluster = next((context[k] for k in CLUSTER_ARGUMENTS if context.get(k)), None)
    if cluster is None:
        return []
    if argument in INSTANCE_ARGUMENTS:
        return [p["metadata"]["name"] for p in resources.list_pods(kube, namespace, cnpg.instance_selector(cluster))]
    if argument in BACKUP_ARGUMENTS:
        return [b["metadata"]["name"] for b in kube_backups.list_backups(kube, namespace, cluster)]
    return []
