"""The real CloudNativePG operator next to the local control plane (devenv/operator.py): how it runs,
what it creates, and how it reacts to what our tools write.

The tool suites already run every tool with its webhooks installed; this module pins down the
operator itself — its identity and isolation, its own objects for a new cluster (the names the
tools rely on), its reaction to our annotations and status patches, and the two failures a user
meets only with a real operator: a refusal that depends on what the operator found at start-up
(no VolumeSnapshot CRDs) and an operator that is down while its webhooks are still registered.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

from devenv.controlplane import LocalControlPlane
from devenv.kubelet_sim import (
    PHASE_SETTING_UP,
    get_cluster,
    simulate_cluster_ready,
    start_first_instance,
    thaw,
    wait_for,
)
from devenv.operator import OPERATOR_USERNAME
from tests.support.mcp_calls import ToolCaller, tool_caller

LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp*
PHASES_WITHOUT_KUBELET = {
    (PHASE_SETTING_UP, "Creating primary instance pg-1"),
    ("Waiting for the instances to become active", "Some instances are not yet active. Please wait."),
}


def _core(api: kubernetes.client.ApiClient) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(api)


def _condition(cluster: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in (cluster.get("status") or {}).get("conditions", []) if c["type"] == kind), None)


def _listening_ports(net_tcp: list[Path]) -> dict[int, set[str]]:
    """port -> local addresses (hex, as the kernel prints them) of the LISTEN sockets in those tables."""
    ports: dict[int, set[str]] = {}
    for table in net_tcp:
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == LISTEN:
                address, port = local.rsplit(":", 1)
                ports.setdefault(int(port, 16), set()).add(address)
    return ports


# --- how it runs -----------------------------------------------------------


def test_the_operator_runs_as_its_own_service_account_with_its_release_rbac(controlplane: LocalControlPlane) -> None:
    operator = controlplane.operator
    environ = dict(
        item.split("=", 1) for item in Path(f"/proc/{operator.pid}/environ").read_text().split("\0") if "=" in item
    )
    kubeconfig = yaml.safe_load(Path(environ["KUBECONFIG"]).read_text())
    assert [u["user"]["token"] for u in kubeconfig["users"]] == [controlplane.tokens["operator"]]

    with controlplane.api_client("operator") as client:
        review = kubernetes.client.AuthenticationV1Api(client).create_self_subject_review({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        authz = kubernetes.client.AuthorizationV1Api(client)

        def allowed(verb: str, resource: str, group: str = "") -> bool:
            spec = {"resourceAttributes": {"verb": verb, "resource": resource, "group": group, "namespace": "default"}}
            return authz.create_self_subject_access_review({"spec": spec}).status.allowed

        # What its ClusterRole (config/rbac/role.yaml of the pinned release) grants, and no more.
        assert allowed("create", "pods") and allowed("create", "jobs", "batch")
        assert allowed("update", "clusters/status", "postgresql.cnpg.io")
        assert not allowed("delete", "namespaces") and not allowed("create", "clusterrolebindings", "rbac.authorization.k8s.io")
        assert not allowed("delete", "nodes")
    assert review.status.user_info.username == OPERATOR_USERNAME


def test_its_webhook_server_is_reachable_from_loopback_only(controlplane: LocalControlPlane) -> None:
    operator = controlplane.operator
    # The operator listens on every interface of a network namespace of its own, which has only
    # a loopback device; devenv/netns.py relays 127.0.0.1:<port> of ours into it.
    assert Path(f"/proc/{operator.pid}/ns/net").resolve() != Path("/proc/self/ns/net").resolve()
    devices = [line.split(":")[0].strip() for line in Path(f"/proc/{operator.pid}/net/dev").read_text().splitlines()[2:]]
    assert devices == ["lo"]
    inside = _listening_ports([Path(f"/proc/{operator.pid}/net/tcp"), Path(f"/proc/{operator.pid}/net/tcp6")])
    outside = _listening_ports([Path("/proc/self/net/tcp"), Path("/proc/self/net/tcp6")])
    assert operator.webhook_port in inside  # (on "::" or 0.0.0.0: it has no host flag)
    assert outside[operator.webhook_port] == {"0100007F"}  # 127.0.0.1 only
    assert outside[operator.metrics_port] == {"0100007F"}
    with socket.create_connection(("127.0.0.1", operator.webhook_port), timeout=10):
        pass


# --- what it creates -------------------------------------------------------


def test_a_new_three_instance_cluster_gets_the_operators_objects_and_first_instance(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=3)
    first = start_first_instance(admin_api, namespace, "pg")

    core, selector = _core(admin_api), "cnpg.io/cluster=pg"
    rbac = kubernetes.client.RbacAuthorizationV1Api(admin_api)

    def made() -> dict[str, Any]:
        status = get_cluster(admin_api, namespace, "pg").get("status") or {}
        return {
            "secrets": {"pg-app", "pg-ca", "pg-server", "pg-replication"}
            & {s.metadata.name for s in core.list_namespaced_secret(namespace).items},
            "services": {s.metadata.name for s in core.list_namespaced_service(namespace).items},
            "pvcs": [p.metadata.name for p in core.list_namespaced_persistent_volume_claim(namespace).items],
            "jobs": [j.metadata.name for j in kubernetes.client.BatchV1Api(admin_api).list_namespaced_job(namespace).items],
            "pdbs": {p.metadata.name for p in kubernetes.client.PolicyV1Api(admin_api).list_namespaced_pod_disruption_budget(namespace).items},
            "accounts": {"pg"} & {a.metadata.name for a in core.list_namespaced_service_account(namespace).items},
            "roles": [r.metadata.name for r in rbac.list_namespaced_role(namespace).items],
            "role_bindings": [b.metadata.name for b in rbac.list_namespaced_role_binding(namespace).items],
            "instances": [p.metadata.name for p in core.list_namespaced_pod(
                namespace, label_selector=f"{selector},cnpg.io/podRole=instance").items],
            # Without a kubelet the first instance never becomes ready, so this is as far as the phase
            # gets: "Setting up primary" while the operator creates pg-1, then (depending on when its
            # next reconciliation sees the Pod) "Waiting for the instances to become active".
            "phase": (status.get("phase"), status.get("phaseReason")) in PHASES_WITHOUT_KUBELET,
            "instance_names": status.get("instanceNames"), "target_primary": status.get("targetPrimary"),
            "ready_instances": status.get("readyInstances"),
        }

    expected = {
        "secrets": {"pg-app", "pg-ca", "pg-server", "pg-replication"},
        "services": {"pg-rw", "pg-ro", "pg-r"},
        "pvcs": ["pg-1"], "jobs": ["pg-1-initdb"], "pdbs": {"pg", "pg-primary"}, "accounts": {"pg"},
        "roles": ["pg"], "role_bindings": ["pg"], "instances": ["pg-1"],
        "phase": True,
        "instance_names": ["pg-1"], "target_primary": "pg-1", "ready_instances": None,
    }
    # The operator writes these over a few reconciliations: wait for them, then compare (for the diff).
    try:
        wait_for(lambda: made() == expected, "the operator's objects for a 3-instance cluster")
    except TimeoutError:
        pass
    assert made() == expected
    assert first.metadata.owner_references[0].kind == "Cluster"


def test_connection_info_names_the_services_and_secrets_the_operator_made(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=1, enable_superuser_access=True)
    start_first_instance(admin_api, namespace, "pg")
    core = _core(admin_api)
    wait_for(lambda: any(s.metadata.name == "pg-superuser" for s in core.list_namespaced_secret(namespace).items),
             "the operator to create the superuser Secret")

    out = tools.ok("cluster_connection_info", name="pg", namespace=namespace)

    for service in out["services"]:
        port = core.read_namespaced_service(service["name"], namespace).spec.ports[0].port
        assert port == service["port"] == out["port"]
    for secret in out["secrets"].values():
        data = core.read_namespaced_secret(secret, namespace).data
        assert {"username", "password"} <= set(data)
    assert out["secrets"] == {"application": "pg-app", "superuser": "pg-superuser"}


# --- how it reacts to what the tools write --------------------------------


def test_hibernating_a_cluster_that_is_not_healthy_yet_is_deferred_by_the_operator(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=1)
    start_first_instance(admin_api, namespace, "pg")

    tools.ok("cluster_hibernate", name="pg", namespace=namespace, confirm="pg")
    deferred = wait_for(lambda: _condition(get_cluster(admin_api, namespace, "pg"), "cnpg.io/hibernation"),
                        "the operator to report on hibernation")
    tools.ok("cluster_resume", name="pg", namespace=namespace)
    wait_for(lambda: _condition(get_cluster(admin_api, namespace, "pg"), "cnpg.io/hibernation") is None,
             "the operator to drop the hibernation condition")

    # It waits for a healthy cluster (never reached without a kubelet) rather than delete pods now.
    assert (deferred["status"], deferred["reason"]) == ("False", "WaitingForHealthy")
    assert [p.metadata.name for p in _core(admin_api).list_namespaced_pod(
        namespace, label_selector="cnpg.io/podRole=instance").items] == ["pg-1"]


def test_the_operator_demotes_the_old_primary_when_a_switchover_is_requested(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=3)
    simulate_cluster_ready(admin_api, namespace, "pg")
    tools.ok("cluster_switchover", name="pg", namespace=namespace, instance="pg-2", confirm="pg-2")
    thaw(admin_api, namespace, "pg")  # the simulator froze it; let the operator see our status patch

    core = _core(admin_api)

    def role(pod: str) -> str | None:
        return core.read_namespaced_pod(pod, namespace).metadata.labels.get("cnpg.io/instanceRole")

    # Out of the -rw Service's selector until pg-2's instance manager (not running here) promotes it.
    wait_for(lambda: role("pg-1") == "unhealthy", "the operator to mark the old primary unhealthy")
    status = get_cluster(admin_api, namespace, "pg")["status"]
    assert (status["currentPrimary"], status["targetPrimary"], role("pg-2")) == ("pg-1", "pg-2", "replica")
    assert status["phase"] == "Switchover in progress"


# --- a second control plane: no VolumeSnapshot CRDs, then the operator down -


@pytest.fixture(scope="module")
def bare_controlplane() -> Iterator[LocalControlPlane]:
    """A control plane without the CSI VolumeSnapshot CRDs, as in a cluster with no snapshotter."""
    with LocalControlPlane(volume_snapshots=False) as running:
        yield running


@pytest.fixture
def bare(bare_controlplane: LocalControlPlane, tmp_path: Path) -> Iterator[tuple[ToolCaller, str]]:
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    with bare_controlplane.api_client("admin") as client:
        _core(client).create_namespace({"metadata": {"name": namespace}})
    yield tool_caller(bare_controlplane.write_kubeconfig(tmp_path / "admin.yaml")), namespace


def test_volume_snapshot_backups_are_refused_where_the_operator_found_no_snapshot_crds(
    bare_controlplane: LocalControlPlane, bare
) -> None:
    tools, namespace = bare
    with bare_controlplane.api_client("admin") as client:
        kubernetes.client.CustomObjectsApi(client).create_namespaced_custom_object(
            "postgresql.cnpg.io", "v1", namespace, "clusters", {
                "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
                "spec": {"instances": 1, "storage": {"size": "1Gi"},
                         "backup": {"volumeSnapshot": {"className": "csi-snapclass"}}},
            })

    backup = tools.error("backup_create", cluster="pg", namespace=namespace, method="volumeSnapshot", dry_run=True)
    scheduled = tools.error("scheduled_backup_create", cluster="pg", namespace=namespace, name="nightly",
                            schedule="0 0 3 * * *", method="volumeSnapshot")

    for message in (backup, scheduled):
        assert "CloudNativePG operator" in message and "refused it" in message
        assert "Cannot use volumeSnapshot backup method due to missing VolumeSnapshot CRD" in message
        assert "{" not in message  # the reason, never the raw API body


def test_writes_while_the_operator_is_down_say_so_and_change_nothing(
    bare_controlplane: LocalControlPlane, bare
) -> None:
    tools, namespace = bare
    operator = bare_controlplane.operator
    operator.kill_process()
    try:
        message = tools.error("cluster_create", name="pg", namespace=namespace, instances=1)
    finally:
        operator.restart_process()

    assert message.startswith("Cannot create cluster") and "could not reach the CloudNativePG operator" in message
    assert "check that the operator is running" in message and "https://" not in message
    assert tools.ok("cluster_list", namespace=namespace)["count"] == 0
    assert tools.ok("cluster_create", name="pg", namespace=namespace, instances=1)["created"] is True
