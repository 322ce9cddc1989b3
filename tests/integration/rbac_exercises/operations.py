"""Operations tools, as the server's ServiceAccount: every Kubernetes path each tool can take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes

from devenv.kubelet_sim import simulate_cluster_ready


def exercise(ok: Callable[..., dict[str, Any]], admin_api: kubernetes.client.ApiClient, namespace: str) -> None:
    kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", namespace, "clusters",
        {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "ops"},
         "spec": {"instances": 3, "storage": {"size": "1Gi"}}})
    simulate_cluster_ready(admin_api, namespace, "ops")
    ns = {"name": "ops", "namespace": namespace}

    # clusters/status patch (optimistic lock) after a pods get
    assert ok("cluster_switchover", **ns, instance="2", confirm="ops-2")["changed"] is True
    # clusters patch (annotation); clusters/status patch (primary in place); pods get + delete (replica)
    ok("cluster_restart", **ns, confirm="ops")
    ok("cluster_restart", **ns, instance="1", confirm="ops-1")
    assert ok("cluster_restart", **ns, instance="3", confirm="ops-3")["method"] == "pod_recreated"
    ok("cluster_reload", **ns)
    ok("cluster_fence", **ns, instance="2", confirm="ops-2")
    assert ok("cluster_unfence", **ns, instance="2")["fenced_instances"] == []
    ok("cluster_hibernate", **ns, confirm="ops")
    ok("cluster_resume", **ns)
    ok("cluster_maintenance", **ns, in_progress=True, confirm="ops")
    ok("cluster_maintenance", **ns, in_progress=False)
