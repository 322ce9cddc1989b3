"""What the CloudNativePG operator would create and report, done by hand (no operator runs here).

A bare apiserver runs no Pods and no controllers (notes §4), so tests that need a "running"
Cluster get one from here, as admin: instance Pods with CNPG's labels and a Ready status,
the -rw/-ro/-r Services, the app and CA Secrets, and the Cluster's /status. Names, labels,
phases and condition reasons are CNPG's own (api/v1/cluster_types.go, pkg/utils/labels*.go).
Calling it again converges: existing objects are patched (e.g. roles after a switchover).
"""

from __future__ import annotations

import base64
import datetime
import secrets
from typing import Any

import kubernetes
from kubernetes.client.rest import ApiException

from devenv import pki

GROUP, VERSION, PLURAL = "postgresql.cnpg.io", "v1", "clusters"
DEFAULT_IMAGE = "ghcr.io/cloudnative-pg/postgresql:17"
PHASE_HEALTHY = "Cluster in healthy state"
PHASE_SETTING_UP = "Setting up primary"
PHASE_WAITING = "Waiting for the instances to become active"
MERGE = "application/merge-patch+json"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def get_cluster(api_client: kubernetes.client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return kubernetes.client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )


def set_cluster_status(
    api_client: kubernetes.client.ApiClient, namespace: str, name: str, **fields: Any
) -> dict[str, Any]:
    """Merge-patch arbitrary fields into the Cluster's /status (None deletes a field)."""
    return kubernetes.client.CustomObjectsApi(api_client).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": fields}
    )


def simulate_cluster_ready(
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    name: str,
    *,
    ready: int | None = None,
    primary_index: int = 1,
    phase: str | None = None,
) -> dict[str, Any]:
    """Create/refresh the Cluster's Pods, Services and Secrets and report its status.

    Args:
        ready: how many instances report Ready (default: all). The primary is counted first.
        primary_index: which instance `<name>-N` is the primary.
        phase: status.phase; default "Cluster in healthy state" when all are ready,
            "Setting up primary" when none is, else "Waiting for the instances to become active".

    Returns:
        The Cluster as read back after the status patch.
    """
    cluster = get_cluster(api_client, namespace, name)
    spec = cluster.get("spec") or {}
    instances = int(spec.get("instances", 1))
    ready = instances if ready is None else ready
    if not 1 <= primary_index <= instances:
        raise ValueError(f"primary_index {primary_index} outside 1..{instances}")
    if not 0 <= ready <= instances:
        raise ValueError(f"ready {ready} outside 0..{instances}")
    image = spec.get("imageName") or DEFAULT_IMAGE
    owner = _owner_reference(cluster)
    primary = f"{name}-{primary_index}"
    pods = [f"{name}-{i}" for i in range(1, instances + 1)]
    # The primary becomes ready first, then replicas in order, as during a real bootstrap.
    ready_pods = ([primary] + [p for p in pods if p != primary])[:ready]

    core = kubernetes.client.CoreV1Api(api_client)
    for index, pod in enumerate(pods, start=1):
        _ensure_pod(core, namespace, name, pod, index, pod == primary, pod in ready_pods, image, owner)
    _ensure_services(core, namespace, name, owner)
    _ensure_secrets(core, namespace, name, spec, owner)

    if phase is None:
        phase = PHASE_HEALTHY if ready == instances else PHASE_SETTING_UP if ready == 0 else PHASE_WAITING
    is_ready = ready == instances
    now = _now()
    return set_cluster_status(
        api_client,
        namespace,
        name,
        phase=phase,
        instances=instances,
        readyInstances=ready,
        instanceNames=pods,
        instancesStatus={
            "healthy": ready_pods or None,
            "failed": [p for p in pods if p not in ready_pods] or None,
        },
        currentPrimary=primary,
        currentPrimaryTimestamp=now,
        targetPrimary=primary,
        targetPrimaryTimestamp=now,
        writeService=f"{name}-rw",
        readService=f"{name}-r",
        image=image,
        latestGeneratedNode=instances,
        timelineID=1,
        # The scale subresource's labelSelector path (.status.selector), as CNPG reports it.
        selector=f"cnpg.io/cluster={name},cnpg.io/podRole=instance",
        conditions=[
            {
                "type": "Ready",
                "status": "True" if is_ready else "False",
                "reason": "ClusterIsReady" if is_ready else "ClusterIsNotReady",
                "message": "Cluster is Ready" if is_ready else "Cluster Is Not Ready",
                "lastTransitionTime": now,
                "observedGeneration": cluster["metadata"].get("generation", 1),
            }
        ],
    )


def _owner_reference(cluster: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "name": cluster["metadata"]["name"],
        "uid": cluster["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _labels(cluster: str, **extra: str) -> dict[str, str]:
    return {"cnpg.io/cluster": cluster, **extra}


def _create_or_patch(create: Any, patch: Any, body: dict[str, Any], patch_body: dict[str, Any]) -> None:
    try:
        create(body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        patch(patch_body)


def _ensure_pod(
    core: kubernetes.client.CoreV1Api,
    namespace: str,
    cluster: str,
    pod: str,
    index: int,
    is_primary: bool,
    is_ready: bool,
    image: str,
    owner: dict[str, Any],
) -> None:
    role = "primary" if is_primary else "replica"
    labels = _labels(
        cluster,
        **{
            "cnpg.io/instanceName": pod,
            "cnpg.io/podRole": "instance",
            "cnpg.io/instanceRole": role,
            "role": role,  # legacy label, still set by CNPG and read by older tooling
        },
    )
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod, "namespace": namespace, "labels": labels, "ownerReferences": [owner]},
        "spec": {"containers": [{"name": "postgres", "image": image, "ports": [{"name": "postgresql", "containerPort": 5432}]}]},
    }
    _create_or_patch(
        lambda b: core.create_namespaced_pod(namespace, b),
        lambda b: core.patch_namespaced_pod(pod, namespace, b, _content_type=MERGE),
        body,
        {"metadata": {"labels": labels}},
    )
    now = _now()
    flag = "True" if is_ready else "False"
    status = {
        "phase": "Running",
        "podIP": f"10.244.0.{index + 10}",
        "startTime": now,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
            {"type": "Ready", "status": flag, "lastTransitionTime": now},
        ],
        "containerStatuses": [
            {
                "name": "postgres",
                "image": image,
                "imageID": "",
                "ready": is_ready,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            }
        ],
    }
    # Status is a subresource: the main endpoint ignores it, so it needs its own patch.
    core.patch_namespaced_pod_status(pod, namespace, {"status": status}, _content_type=MERGE)


def _ensure_services(core: kubernetes.client.CoreV1Api, namespace: str, cluster: str, owner: dict[str, Any]) -> None:
    selectors = {
        "rw": {"cnpg.io/cluster": cluster, "cnpg.io/instanceRole": "primary"},
        "ro": {"cnpg.io/cluster": cluster, "cnpg.io/instanceRole": "replica"},
        "r": {"cnpg.io/cluster": cluster, "cnpg.io/podRole": "instance"},
    }
    for suffix, selector in selectors.items():
        name = f"{cluster}-{suffix}"
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": _labels(cluster), "ownerReferences": [owner]},
            "spec": {
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "postgres", "port": 5432, "targetPort": 5432, "protocol": "TCP"}],
            },
        }
        try:
            core.create_namespaced_service(namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise


def _ensure_secrets(
    core: kubernetes.client.CoreV1Api, namespace: str, cluster: str, spec: dict[str, Any], owner: dict[str, Any]
) -> None:
    initdb = (spec.get("bootstrap") or {}).get("initdb") or {}
    database = initdb.get("database") or "app"
    user = initdb.get("owner") or database
    password = secrets.token_urlsafe(24)
    host = f"{cluster}-rw"
    fqdn = f"{host}.{namespace}.svc.cluster.local"
    app = {
        "username": user,
        "user": user,
        "password": password,
        "dbname": database,
        "host": host,
        "port": "5432",
        "uri": f"postgresql://{user}:{password}@{host}.{namespace}:5432/{database}",
        "jdbc-uri": f"jdbc:postgresql://{host}.{namespace}:5432/{database}?password={password}&user={user}",
        "fqdn-uri": f"postgresql://{user}:{password}@{fqdn}:5432/{database}",
        "fqdn-jdbc-uri": f"jdbc:postgresql://{fqdn}:5432/{database}?password={password}&user={user}",
        "pgpass": f"{host}:5432:{database}:{user}:{password}\n",
    }
    ca = pki.make_ca(cluster)
    wanted = [
        (
            f"{cluster}-app",
            "kubernetes.io/basic-auth",
            _labels(cluster, **{"cnpg.io/reload": "true", "cnpg.io/userType": "app"}),
            app,
        ),
        (
            f"{cluster}-ca",
            "Opaque",
            _labels(cluster, **{"cnpg.io/reload": "true"}),
            {"ca.crt": ca.cert_pem.decode(), "ca.key": ca.key_pem.decode()},
        ),
    ]
    for name, kind, labels, data in wanted:
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": kind,
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [owner]},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
        try:
            # Existing secrets keep their credentials, as the operator never rotates them on its own.
            core.create_namespaced_secret(namespace, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
