"""MCP resources: each CloudNativePG cluster's manifest and status as JSON.

`cnpg://{namespace}/clusters/{name}` names a cluster of the default context (the only form
when the server serves one cluster); with several kubeconfig contexts,
`cnpg://{context}/{namespace}/clusters/{name}` names one in any allowed context. Context
names may hold characters a URI cannot (`arn:aws:eks:...:cluster/prod`), so they are
percent-encoded.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import quote, unquote

from app.kube import ContextNotServed, NamespaceNotServed, NotFound, cnpg
from app.tools.common import namespaces_to_list
from app.tools.context import ToolContext
from app.tools.errors import DOMAIN_ERRORS

log = logging.getLogger(__name__)

URI_TEMPLATE = "cnpg://{namespace}/clusters/{name}"
CONTEXT_URI_TEMPLATE = "cnpg://{context}/{namespace}/clusters/{name}"
MIME_TYPE = "application/json"
_NS, _NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", r"[a-z]([-a-z0-9]*[a-z0-9])?"
_URI = re.compile(rf"^cnpg://((?P<context>[^/]+)/)?(?P<namespace>{_NS})/clusters/(?P<name>{_NAME})$")
_METADATA_KEPT = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "labels",
                  "annotations")


class ResourceNotFound(LookupError):
    """No resource at that URI (JSON-RPC: -32002 before 2026-07-28, -32602 with data.uri after)."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"Resource not found: {uri} ({reason})")
        self.uri = uri


def templates(ctx: ToolContext) -> list[dict[str, Any]]:
    found = [{
        "uriTemplate": URI_TEMPLATE,
        "name": "cluster",
        "title": "CloudNativePG cluster",
        "description": "A cluster's manifest (spec) and status as JSON; read it to inspect a cluster in full.",
        "mimeType": MIME_TYPE,
    }]
    if ctx.kube.served_contexts():
        found[0]["description"] += f" (in the default context, {ctx.kube.context})"
        found.append({
            "uriTemplate": CONTEXT_URI_TEMPLATE,
            "name": "cluster-in-context",
            "title": "CloudNativePG cluster in a kubeconfig context",
            "description": ("A cluster's manifest and status as JSON, in one of the contexts "
                            f"{', '.join(ctx.kube.served_contexts())} (percent-encoded)."),
            "mimeType": MIME_TYPE,
        })
    return found


def _uri(context: str | None, namespace: str, name: str) -> str:
    if context is None:
        return URI_TEMPLATE.format(namespace=namespace, name=name)
    return CONTEXT_URI_TEMPLATE.format(context=quote(context, safe=""), namespace=namespace, name=name)


def list_resources(ctx: ToolContext) -> list[dict[str, Any]]:
    """Every cluster of every allowed context; a context that cannot be listed is left out (and logged)."""
    listed = []
    for here in [ctx.in_context(name) for name in ctx.kube.served_contexts()] or [ctx]:
        try:
            found = [c for ns in namespaces_to_list(here) for c in here.kube.list(cnpg.CLUSTER, ns)]
        except DOMAIN_ERRORS as exc:
            if not ctx.kube.served_contexts():
                raise
            log.warning("resources/list: context %s skipped: %s", here.kube.context, exc,
                        extra={"request_id": ctx.request_id})
            continue
        for cluster in sorted(found, key=lambda c: (c["metadata"]["namespace"], c["metadata"]["name"])):
            namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
            phase = (cluster.get("status") or {}).get("phase") or "no status yet"
            where = f"{namespace}, {here.kube.context}" if here.kube.context else namespace
            listed.append({
                "uri": _uri(here.kube.context, namespace, name),
                "name": f"{here.kube.context}/{namespace}/{name}" if here.kube.context else f"{namespace}/{name}",
                "title": f"Cluster {name} ({where})",
                "description": f"PostgreSQL cluster {name} in {where}: {phase}",
                "mimeType": MIME_TYPE,
            })
    return listed


def read_resource(uri: str, ctx: ToolContext) -> list[dict[str, Any]]:
    """The contents of one cluster resource.

    Raises:
        ResourceNotFound: malformed URI, context or namespace not served, or no such cluster.
    """
    match = _URI.fullmatch(uri)
    if match is None:
        forms = " or ".join([URI_TEMPLATE, CONTEXT_URI_TEMPLATE] if ctx.kube.served_contexts() else [URI_TEMPLATE])
        raise ResourceNotFound(uri, f"URIs look like {forms}")
    namespace, name = match["namespace"], match["name"]
    try:
        if match["context"] is not None:
            ctx = ctx.in_context(unquote(match["context"]))
        cluster = ctx.kube.get(cnpg.CLUSTER, namespace, name)
    except NotFound:
        raise ResourceNotFound(uri, f"no cluster {name!r} in {ctx.kube.where(namespace)}") from None
    except (ContextNotServed, NamespaceNotServed) as exc:
        raise ResourceNotFound(uri, str(exc)) from None
    metadata = {k: cluster["metadata"][k] for k in _METADATA_KEPT if k in cluster["metadata"]}
    body = {"apiVersion": cluster.get("apiVersion"), "kind": cluster.get("kind"), "metadata": metadata,
            "spec": cluster.get("spec", {}), "status": cluster.get("status", {})}
    return [{"uri": uri, "mimeType": MIME_TYPE, "text": json.dumps(body, indent=2, sort_keys=True)}]
