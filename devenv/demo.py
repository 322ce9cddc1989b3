"""A sample namespace and CloudNativePG Cluster, so a fresh local control plane has something to show."""

from __future__ import annotations

from typing import Any

import kubernetes
from kubernetes.client.rest import ApiException

from devenv.kubelet_sim import GROUP, PLURAL, VERSION, get_cluster, start_first_instance

DEMO_CLUSTER = "pg-demo"


def demo_cluster(namespace: str, name: str = DEMO_CLUSTER) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "instances": 3,
            "imageName": "ghcr.io/cloudnative-pg/postgresql:17.5",
            "storage": {"size": "1Gi"},
            "bootstrap": {"initdb": {"database": "app", "owner": "app"}},
        },
    }


def seed_demo(api_client: kubernetes.client.ApiClient, namespace: str = "demo") -> dict[str, Any]:
    """Create `namespace` and Cluster pg-demo (3 instances) through the operator's webhooks, and let
    the real operator take it as far as it goes without a kubelet (devenv/kubelet_sim.py): its
    Secrets, Services, PVC and bootstrap Job, then its first instance Pod. Idempotent."""
    core = kubernetes.client.CoreV1Api(api_client)
    try:
        core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    custom = kubernetes.client.CustomObjectsApi(api_client)
    try:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, demo_cluster(namespace))
    except ApiException as exc:
        if exc.status != 409:
            raise
    start_first_instance(api_client, namespace, DEMO_CLUSTER)
    return get_cluster(api_client, namespace, DEMO_CLUSTER)
