"""SIMULATOR: what only a kubelet and CloudNativePG's instance manager (inside each Pod) would report.

The local control plane runs the real CloudNativePG operator and kube-controller-manager, but no
scheduler or kubelet, so no Pod ever runs (notes §4): the operator creates a Cluster's Secrets,
Services, ServiceAccount, RBAC, PodDisruptionBudgets, first PVC and its bootstrap Job itself, and
then waits for Pods that never start. This module stands in for exactly the missing parts, each
step saying why the real component cannot do it here:

- **kubelet**: Pod phases, readiness, container states and IPs (`complete_jobs`, `_report_pod`);
- **instance manager**: what the instance managers of a running cluster report into the
  Cluster's status (primary, ready instances, timeline...), and the replica Pods the operator
  would only create after the previous instance's manager had reported ready.

A simulated "running" cluster is first reconciled by the real operator (so its objects are the
operator's own), then *frozen* with CloudNativePG's `cnpg.io/reconciliationLoop: disabled`
annotation, the supported way to stop the operator reconciling one object: otherwise it would
correct the simulated status back to what it can see (no instance manager answers). Its
admission webhooks still validate every write of a frozen object.
"""

from __future__ import annotations

import copy
import datetime
import time
from collections.abc import Callable
from typing import Any

import kubernetes
from kubernetes.client.rest import ApiException

GROUP, VERSION, PLURAL = "postgresql.cnpg.io", "v1", "clusters"
PHASE_HEALTHY = "Cluster in healthy state"
PHASE_SETTING_UP = "Setting up primary"
PHASE_WAITING = "Waiting for the instances to become active"
MERGE = "application/merge-patch+json"
# CloudNativePG's annotation (pkg/utils/labels_annotations.go) that makes the operator skip an object.
RECONCILIATION = "cnpg.io/reconciliationLoop"
DISABLED = "disabled"
# How long to wait for the operator (and kube-controller-manager) to act: generous, for a busy machine.
OPERATOR_TIMEOUT = 90.0


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _custom(api_client: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def get_cluster(api_client: kubernetes.client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return _custom(api_client).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)


def wait_for(check: Callable[[], Any], what: str, timeout: float = OPERATOR_TIMEOUT) -> Any:
    """Poll `check` every 0.1 s until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f}s")
        time.sleep(0.1)


def freeze(api_client: kubernetes.client.ApiClient, namespace: str, name: str, plural: str = PLURAL) -> dict[str, Any]:
    """Stop the operator reconciling one object (its webhooks still run), so simulated status stays."""
    return _custom(api_client).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, name, {"metadata": {"annotations": {RECONCILIATION: DISABLED}}}
    )


def thaw(api_client: kubernetes.client.ApiClient, namespace: str, name: str, plural: str = PLURAL) -> dict[str, Any]:
    """Let the operator reconcile the object again (undoes freeze), e.g. to watch it react to a status."""
    return _custom(api_client).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, name, {"metadata": {"annotations": {RECONCILIATION: None}}}
    )


def set_cluster_status(
    api_client: kubernetes.client.ApiClient, namespace: str, name: str, **fields: Any
) -> dict[str, Any]:
    """Merge-patch status fields as the operator or the instance managers would report them (None
    deletes a field). Freezes the Cluster first: the operator would otherwise overwrite them."""
    freeze(api_client, namespace, name)
    return _settle(api_client, namespace, PLURAL, name, fields)


def set_status(
    api_client: kubernetes.client.ApiClient, namespace: str, plural: str, name: str, **fields: Any
) -> dict[str, Any]:
    """The same for another CloudNativePG kind (e.g. a Backup the operator would have taken)."""
    freeze(api_client, namespace, name, plural)
    return _settle(api_client, namespace, plural, name, fields)


def _settle(
    api_client: kubernetes.client.ApiClient, namespace: str, plural: str, name: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Patch /status until it holds `fields` on two reads in a row.

    A reconcile the operator started before the freeze annotation reached it may still write
    status once; re-applying until it holds makes the simulated state deterministic.
    """
    custom = _custom(api_client)
    deadline = time.monotonic() + OPERATOR_TIMEOUT
    while True:
        custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, plural, name, {"status": fields})
        held = 0
        while held < 2:
            time.sleep(0.25)
            current = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
            if not _holds(current.get("status") or {}, fields):
                break
            held += 1
        else:
            return current
        if time.monotonic() > deadline:
            raise TimeoutError(f"{plural}/{name} status kept changing after the freeze")


def _holds(status: dict[str, Any], fields: dict[str, Any]) -> bool:
    for key, wanted in fields.items():
        if wanted is None:
            if key in status:
                return False
        elif isinstance(wanted, dict) and isinstance(status.get(key), dict):
            if not _holds(status[key], wanted):
                return False
        elif status.get(key) != wanted:
            return False
    return True


def wait_for_reconciled(api_client: kubernetes.client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    """Wait until the real operator has reconciled a new Cluster once: its Services and CA exist."""
    core = kubernetes.client.CoreV1Api(api_client)

    def reconciled() -> dict[str, Any] | None:
        cluster = get_cluster(api_client, namespace, name)
        status = cluster.get("status") or {}
        if not status.get("writeService") or not (status.get("certificates") or {}).get("serverCASecret"):
            return None
        services = {s.metadata.name for s in core.list_namespaced_service(namespace, label_selector=f"cnpg.io/cluster={name}").items}
        return cluster if {f"{name}-rw", f"{name}-ro", f"{name}-r"} <= services else None

    return wait_for(reconciled, f"the operator to reconcile Cluster {namespace}/{name}")


def complete_jobs(api_client: kubernetes.client.ApiClient, namespace: str, cluster: str) -> list[str]:
    """Kubelet: report every pending Job Pod of `cluster` as having run to completion (exit 0).

    No kubelet runs the operator's bootstrap Jobs (initdb, join, recovery), so this reports what
    it would; kube-controller-manager's job controller then completes the Job, and the operator
    moves on (creating the instance Pod). Returns the Pods reported.
    """
    core = kubernetes.client.CoreV1Api(api_client)
    done = []
    for pod in core.list_namespaced_pod(namespace, label_selector=f"cnpg.io/cluster={cluster},cnpg.io/jobRole").items:
        if pod.status.phase in ("Succeeded", "Failed"):
            continue
        now = _now()
        statuses = [
            {"name": c.name, "image": c.image, "imageID": "", "ready": False, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}}}
            for c in pod.spec.containers
        ]
        body = {"status": {"phase": "Succeeded", "startTime": now, "containerStatuses": statuses, "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": now},
        ]}}
        core.patch_namespaced_pod_status(pod.metadata.name, namespace, body, _content_type=MERGE)
        done.append(pod.metadata.name)
    return done


def _first_instance(api_client: kubernetes.client.ApiClient, namespace: str, name: str) -> kubernetes.client.V1Pod:
    """Let the real operator bootstrap `name` as far as it can: it reconciles the Cluster, the
    simulated kubelet completes the bootstrap Job, and the operator creates Pod `<name>-1`."""
    core = kubernetes.client.CoreV1Api(api_client)
    wait_for_reconciled(api_client, namespace, name)
    first = f"{name}-1"

    def first_pod() -> kubernetes.client.V1Pod | None:
        complete_jobs(api_client, namespace, name)
        try:
            return core.read_namespaced_pod(first, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    return wait_for(first_pod, f"the operator to create Pod {namespace}/{first} after its bootstrap Job")


def start_first_instance(api_client: kubernetes.client.ApiClient, namespace: str, name: str) -> kubernetes.client.V1Pod:
    """A live (not frozen) Cluster as far as the real operator takes it without a kubelet.

    The operator reconciles it and creates its first instance Pod once the simulated kubelet has
    completed the bootstrap Job; the kubelet then reports that Pod Running but not Ready: its
    readiness probe asks the instance manager (HTTPS :8000/readyz), and none runs here. The
    operator keeps reconciling it, in phase "Setting up primary" ("Creating primary instance <name>-1").
    """
    pod = _first_instance(api_client, namespace, name)
    _report_pod(kubernetes.client.CoreV1Api(api_client), namespace, pod.metadata.name, 1, None, False)
    return pod


def simulate_cluster_ready(
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    name: str,
    *,
    ready: int | None = None,
    primary_index: int = 1,
    phase: str | None = None,
) -> dict[str, Any]:
    """Make a new Cluster look like a running one, the real operator doing every step it can here.

    1. The operator reconciles it (Secrets, Services, PVC, bootstrap Job) and, once the simulated
       kubelet has completed the bootstrap Job, creates the first instance Pod `<name>-1`.
    2. The Cluster is frozen, and the Pods of the other instances are created from the operator's
       `<name>-1` (it would create them one by one, each after the previous instance manager
       reported ready: no instance manager runs here).
    3. The kubelet's Pod status and the instance managers' Cluster status are reported.

    Calling it again on the same (frozen) Cluster converges, e.g. after a simulated switchover.

    Args:
        ready: how many instances report Ready (default: all). The primary is counted first.
        primary_index: which instance `<name>-N` is the primary.
        phase: status.phase; default "Cluster in healthy state" when all are ready,
            "Setting up primary" when none is, else "Waiting for the instances to become active".

    Returns:
        The Cluster as read back after the status patch.
    """
    core = kubernetes.client.CoreV1Api(api_client)
    cluster = get_cluster(api_client, namespace, name)
    if (cluster["metadata"].get("annotations") or {}).get(RECONCILIATION) != DISABLED:
        _first_instance(api_client, namespace, name)
        cluster = freeze(api_client, namespace, name)
    spec = cluster.get("spec") or {}
    instances = int(spec.get("instances", 1))
    ready = instances if ready is None else ready
    if not 1 <= primary_index <= instances:
        raise ValueError(f"primary_index {primary_index} outside 1..{instances}")
    if not 0 <= ready <= instances:
        raise ValueError(f"ready {ready} outside 0..{instances}")
    primary = f"{name}-{primary_index}"
    pods = [f"{name}-{i}" for i in range(1, instances + 1)]
    # The primary becomes ready first, then replicas in order, as during a real bootstrap.
    ready_pods = ([primary] + [p for p in pods if p != primary])[:ready]
    template = core.read_namespaced_pod(f"{name}-1", namespace)
    for index, pod in enumerate(pods, start=1):
        _ensure_instance_pod(api_client, template, pod, index)
        _report_pod(core, namespace, pod, index, pod == primary, pod in ready_pods)

    if phase is None:
        phase = PHASE_HEALTHY if ready == instances else PHASE_SETTING_UP if ready == 0 else PHASE_WAITING
    is_ready = ready == instances
    now = _now()
    image = spec.get("imageName") or (cluster.get("status") or {}).get("image")
    return _settle(
        api_client,
        namespace,
        PLURAL,
        name,
        {
            "phase": phase,
            "phaseReason": None if is_ready else "Some instances are not yet active. Please wait.",
            "instances": instances,
            "readyInstances": ready,
            "instanceNames": pods,
            "instancesStatus": {
                "healthy": ready_pods or None,
                "failed": [p for p in pods if p not in ready_pods] or None,
            },
            "currentPrimary": primary,
            "currentPrimaryTimestamp": now,
            "targetPrimary": primary,
            "targetPrimaryTimestamp": now,
            "image": image,
            "latestGeneratedNode": instances,
            "timelineID": 1,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if is_ready else "False",
                    "reason": "ClusterIsReady" if is_ready else "ClusterIsNotReady",
                    "message": "Cluster is Ready" if is_ready else "Cluster Is Not Ready",
                    "lastTransitionTime": now,
                    "observedGeneration": cluster["metadata"].get("generation", 1),
                }
            ],
        },
    )


def _ensure_instance_pod(
    api_client: kubernetes.client.ApiClient, template: kubernetes.client.V1Pod, pod: str, index: int
) -> None:
    """Create instance Pod `pod` like the operator's first one (it would, after a join Job)."""
    core = kubernetes.client.CoreV1Api(api_client)
    namespace = template.metadata.namespace
    try:
        core.read_namespaced_pod(pod, namespace)
        return
    except ApiException as exc:
        if exc.status != 404:
            raise
    body = copy.deepcopy(api_client.sanitize_for_serialization(template))
    first = template.metadata.name
    metadata = body["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
        metadata.pop(key, None)
    metadata["name"] = pod
    metadata["labels"]["cnpg.io/instanceName"] = pod
    metadata.setdefault("annotations", {})["cnpg.io/nodeSerial"] = str(index)
    body.pop("status", None)
    spec = body["spec"]
    spec["hostname"] = pod
    for volume in spec.get("volumes") or []:
        claim = volume.get("persistentVolumeClaim")
        if claim and claim.get("claimName", "").startswith(first):
            claim["claimName"] = pod + claim["claimName"][len(first):]
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for env in container.get("env") or []:
            if env.get("value") == first:
                env["value"] = pod
    core.create_namespaced_pod(namespace, body)


def _report_pod(
    core: kubernetes.client.CoreV1Api, namespace: str, pod: str, index: int, is_primary: bool | None, is_ready: bool
) -> None:
    """Kubelet: the Pod's status; with `is_primary` not None also the role labels the operator sets
    from what the instance managers report."""
    if is_primary is not None:
        role = "primary" if is_primary else "replica"
        core.patch_namespaced_pod(
            pod, namespace, {"metadata": {"labels": {"cnpg.io/instanceRole": role, "role": role}}}, _content_type=MERGE
        )
    now = _now()
    flag = "True" if is_ready else "False"
    current = core.read_namespaced_pod(pod, namespace)
    statuses = [
        {"name": c.name, "image": c.image, "imageID": "", "ready": is_ready, "started": True, "restartCount": 0,
         "state": {"running": {"startedAt": now}}}
        for c in current.spec.containers
    ]
    status = {
        "phase": "Running",
        "podIP": f"10.244.0.{index + 10}",
        "podIPs": [{"ip": f"10.244.0.{index + 10}"}],
        "startTime": now,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": now},
            {"type": "Ready", "status": flag, "lastTransitionTime": now},
        ],
        "containerStatuses": statuses,
    }
    # Status is a subresource: the main endpoint ignores it, so it needs its own patch.
    core.patch_namespaced_pod_status(pod, namespace, {"status": status}, _content_type=MERGE)
