"""MCP resources: each CloudNativePG cluster's manifest and status, as `cnpg://{namespace}/clusters/{name}`."""

from __future__ import annotations

import json
import re
from typing import Any

from app.kube import NotFound, resources
from app.tools.common import kube_of, namespaces_to_list
from app.tools.context import ToolContext

URI_TEMPLATE = "cnpg://{namespace}/clusters/{name}"
MIME_TYPE = "application/json"
_URI = re.compile(r"^cnpg://(?P<namespace>[a-z0-9]([-a-z0-9]*[a-z0-9])?)/clusters/(?P<name>[a-z]([-a-z0-9]*[a-z0-9])?)$")
_METADATA_KEPT = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "labels",
                  "annotations")


class ResourceNotFound(LookupError):
    """No resource at that URI (JSON-RPC: -32002 before 2026-07-28, -32602 with data.uri after)."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"Resource not found: {uri} ({reason})")
        self.uri = uri


def templates() -> list[dict[str, Any]]:
    return [{
        "uriTemplate": URI_TEMPLATE,
        "name": "cluster",
        "title": "CloudNativePG cluster",
        "description": "A cluster's manifest (spec) and status as JSON; read it to inspect a cluster in full.",
        "mimeType": MIME_TYPE,
    }]


def _allowed(ctx: ToolContext) -> tuple[str, ...]:
    return ctx.settings.namespaces if ctx.settings else ()


def list_resources(ctx: ToolContext) -> list[dict[str, Any]]:
    kube = kube_of(ctx)
    searched = namespaces_to_list(ctx)
    found = (resources.list_clusters(kube, None, None, ctx.identity) if searched is None
             else [c for ns in searched for c in resources.list_clusters(kube, ns, None, ctx.identity)])
    listed = []
    for cluster in sorted(found, key=lambda c: (c["metadata"]["namespace"], c["metadata"]["name"])):
        namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
        phase = (cluster.get("status") or {}).get("phase") or "no status yet"
        listed.append({
            "uri": URI_TEMPLATE.format(namespace=namespace, name=name),
            "name": f"{namespace}/{name}",
            "title": f"Cluster {name} ({namespace})",
            "description": f"PostgreSQL cluster {name} in {namespace}: {phase}",
            "mimeType": MIME_TYPE,
        })
    return listed


def read_resource(uri: str, ctx: ToolContext) -> list[dict[str, Any]]:
    """The contents of one cluster resource.

    Raises:
        ResourceNotFound: malformed URI, namespace not served, or no such cluster.
    """
    match = _URI.fullmatch(uri)
    if match is None:
        raise ResourceNotFound(uri, f"URIs look like {URI_TEMPLATE}")
    namespace, name = match["namespace"], match["name"]
    allowed = _allowed(ctx)
    if allowed and namespace not in allowed:
        raise ResourceNotFound(uri, f"namespace {namespace!r} is not served by this server")
    try:
        cluster = resources.get_cluster(kube_of(ctx), namespace, name, ctx.identity)
    except NotFound:
        raise ResourceNotFound(uri, f"no cluster {name!r} in namespace {namespace!r}") from None
    metadata = {k: cluster["metadata"][k] for k in _METADATA_KEPT if k in cluster["metadata"]}
    body = {"apiVersion": cluster.get("apiVersion"), "kind": cluster.get("kind"), "metadata": metadata,
            "spec": cluster.get("spec", {}), "status": cluster.get("status", {})}
    return [{"uri": uri, "mimeType": MIME_TYPE, "text": json.dumps(body, indent=2, sort_keys=True)}]
