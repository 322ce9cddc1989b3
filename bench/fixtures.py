"""What the benchmark runs against: a local control plane seeded with 10 and 500 clusters, the local
identity provider, Redis, and gunicorn servers built from the shipped gunicorn.conf.py."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kubernetes
from kubernetes.client.rest import ApiException

from devenv.demo import demo_cluster
from devenv.kubelet_sim import DISABLED, GROUP, PLURAL, RECONCILIATION, VERSION, simulate_cluster_ready

RESOURCE = "https://mcp.bench.test/mcp"
SMALL, LARGE = "bench-10", "bench-500"
TARGET = "pg-000"
LEGACY = "2025-11-25"
MODERN = "2026-07-28"


def seed_clusters(api_client: kubernetes.client.ApiClient, namespace: str, count: int, full_for: int) -> None:
    """`count` Clusters with a realistic status; the first `full_for` also get pods, services and secrets."""
    core = kubernetes.client.CoreV1Api(api_client)
    try:
        core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    custom = kubernetes.client.CustomObjectsApi(api_client)

    def create(index: int) -> None:
        name = f"pg-{index:03d}"
        body = demo_cluster(namespace, name)
        if index < full_for:
            custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
            simulate_cluster_ready(api_client, namespace, name)
            return
        # Status only: born frozen (the operator's webhooks admit it, its reconciler never takes it
        # up), so 500 clusters cost the machine no reconciliation and the status needs no settling.
        body["metadata"].setdefault("annotations", {})[RECONCILIATION] = DISABLED
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
        custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, {"status": {
            "phase": "Cluster in healthy state", "instances": 3, "readyInstances": 3,
            "currentPrimary": f"{name}-1", "targetPrimary": f"{name}-1",
            "instanceNames": [f"{name}-{i}" for i in (1, 2, 3)],
            "conditions": [{"type": "Ready", "status": "True", "reason": "ClusterIsReady",
                            "message": "Cluster is Ready", "lastTransitionTime": "2026-11-01T00:00:00Z"}],
        }})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(count)))


def rpc(method: str, params: dict[str, Any] | None = None, *, modern: bool = False) -> tuple[str, dict[str, str]]:
    """A JSON-RPC body and the headers a real client sends with it, in either protocol era."""
    params = dict(params or {})
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if modern:
        params["_meta"] = {"io.modelcontextprotocol/protocolVersion": MODERN,
                           "io.modelcontextprotocol/clientCapabilities": {}}
        headers.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": method})
        if method == "tools/call":
            headers["Mcp-Name"] = params["name"]
            # Arguments annotated x-mcp-header travel as headers too (the server checks they agree).
            for argument, header in (("namespace", "Mcp-Param-Namespace"), ("context", "Mcp-Param-Context")):
                if argument in (params.get("arguments") or {}):
                    headers[header] = str(params["arguments"][argument])
    else:
        headers["MCP-Protocol-Version"] = LEGACY
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}), headers


def tool_call(tool: str, /, **arguments: Any) -> tuple[str, dict[str, str]]:
    return rpc("tools/call", {"name": tool, "arguments": arguments})
