"""The local control plane harness itself: a real kube-apiserver, real RBAC, real CNPG CRDs.

Other integration tests trust these properties (identities, RBAC, simulated operator
effects, restartability), so they are checked here against the running processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import kubernetes
import pytest
import requests
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from devenv.controlplane import LocalControlPlane
from devenv.demo import demo_cluster
from devenv.kubelet_sim import GROUP, PLURAL, VERSION, get_cluster, set_cluster_status, simulate_cluster_ready
from devenv.paths import ROOT, versions

CNPG_PLURALS = {
    "backups",
    "clusterimagecatalogs",
    "clusters",
    "databaseroles",
    "databases",
    "failoverquorums",
    "imagecatalogs",
    "poolers",
    "publications",
    "scheduledbackups",
    "subscriptions",
}


def _create_cluster(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg") -> dict:
    return kubernetes.client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, demo_cluster(namespace, name)
    )


def _whoami(api: kubernetes.client.ApiClient) -> kubernetes.client.V1UserInfo:
    review = kubernetes.client.AuthenticationV1Api(api).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    )
    return review.status.user_info


def test_apiserver_reports_the_pinned_version_over_tls_verified_against_our_ca(controlplane: LocalControlPlane) -> None:
    # /version is public (system:public-info-viewer); verify= proves the serving cert chains to ca_file.
    response = requests.get(f"{controlplane.host}/version", verify=str(controlplane.ca_file), timeout=5)

    assert response.status_code == 200
    assert response.json()["gitVersion"] == f"v{versions()['KUBERNETES_VERSION']}"
    assert controlplane.host.startswith("https://127.0.0.1:")


def test_all_cnpg_crds_are_established_and_discoverable(admin_api: kubernetes.client.ApiClient) -> None:
    crds = kubernetes.client.ApiextensionsV1Api(admin_api).list_custom_resource_definition().items
    cnpg = [c for c in crds if c.spec.group == GROUP]

    assert {c.spec.names.plural for c in cnpg} == CNPG_PLURALS
    for crd in cnpg:
        assert any(c.type == "Established" and c.status == "True" for c in crd.status.conditions), crd.metadata.name
    discovered = kubernetes.client.CustomObjectsApi(admin_api).get_api_resources(GROUP, VERSION).resources
    assert CNPG_PLURALS <= {r.name for r in discovered}


def test_rbac_denies_plain_users_until_a_role_grants_access(
    controlplane: LocalControlPlane, admin_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    with controlplane.api_client("alice") as alice:
        alice_objects = kubernetes.client.CustomObjectsApi(alice)
        with pytest.raises(ApiException) as denied:
            alice_objects.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        assert denied.value.status == 403

        _, admin_status, _ = kubernetes.client.CustomObjectsApi(admin_api).list_namespaced_custom_object_with_http_info(
            GROUP, VERSION, namespace, PLURAL
        )
        assert admin_status == 200

        # A real authorizer, not "deny all": an explicit Role makes the same call succeed.
        rbac = kubernetes.client.RbacAuthorizationV1Api(admin_api)
        rbac.create_namespaced_role(
            namespace,
            {
                "metadata": {"name": "cluster-reader"},
                "rules": [{"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list"]}],
            },
        )
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": "alice-reads-clusters"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cluster-reader"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
            },
        )
        # RBAC caches are refreshed from a watch: allow a moment for the binding to apply.
        deadline = time.monotonic() + 10
        while True:
            try:
                assert alice_objects.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"] == []
                break
            except ApiException as exc:
                if exc.status != 403 or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    with controlplane.api_client("bob") as bob:
        with pytest.raises(ApiException) as still_denied:
            kubernetes.client.CustomObjectsApi(bob).list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        assert still_denied.value.status == 403


def test_each_static_token_authenticates_as_its_identity(controlplane: LocalControlPlane) -> None:
    assert set(controlplane.tokens) == {"admin", "serviceaccount", "operator", "alice", "bob", "carol"}
    with controlplane.api_client("serviceaccount") as sa:
        sa_user = _whoami(sa)
    with controlplane.api_client("admin") as admin:
        admin_user = _whoami(admin)
    with controlplane.api_client("carol") as carol:
        carol_user = _whoami(carol)
    with controlplane.api_client("operator") as operator:
        operator_user = _whoami(operator)

    assert sa_user.username == "system:serviceaccount:cnpg-mcp:cnpg-mcp"
    assert set(sa_user.groups) == {"system:serviceaccounts", "system:serviceaccounts:cnpg-mcp", "system:authenticated"}
    assert admin_user.username == "admin" and "system:masters" in admin_user.groups
    assert carol_user.username == "carol" and set(carol_user.groups) == {"system:authenticated"}
    # The CloudNativePG operator's own ServiceAccount identity, as its release's RBAC binds it.
    assert operator_user.username == "system:serviceaccount:cnpg-system:cnpg-manager"
    assert "system:masters" not in operator_user.groups


def test_admin_client_certificate_is_accepted(controlplane: LocalControlPlane) -> None:
    config = kubernetes.client.Configuration(
        host=controlplane.host,
        ssl_ca_cert=str(controlplane.ca_file),
        cert_file=str(controlplane.admin_cert_file),
        key_file=str(controlplane.admin_key_file),
    )
    with kubernetes.client.ApiClient(config) as client:
        user = _whoami(client)

    assert user.username == "admin" and "system:masters" in user.groups


def test_written_kubeconfig_works_with_the_clients_loader(controlplane: LocalControlPlane, tmp_path: Path) -> None:
    # The same loader app/kube uses; the file must be self-contained (CA inline).
    path = controlplane.write_kubeconfig(tmp_path / "kubeconfig", user="alice")
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(path), context="local", client_configuration=config)
    with kubernetes.client.ApiClient(config) as client:
        assert _whoami(client).username == "alice"
    assert path.stat().st_mode & 0o077 == 0  # holds a token


def test_simulated_running_cluster_builds_on_what_the_real_operator_made(
    admin_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    created = _create_cluster(admin_api, namespace, "pg")

    returned = simulate_cluster_ready(admin_api, namespace, "pg")

    core = kubernetes.client.CoreV1Api(admin_api)
    pods = {p.metadata.name: p for p in core.list_namespaced_pod(namespace, label_selector="cnpg.io/podRole=instance").items}
    assert sorted(pods) == ["pg-1", "pg-2", "pg-3"]
    operator_made = pods["pg-1"]
    for name, pod in pods.items():
        role = "primary" if name == "pg-1" else "replica"
        assert pod.metadata.labels["cnpg.io/instanceName"] == name
        assert (pod.metadata.labels["cnpg.io/instanceRole"], pod.metadata.labels["role"]) == (role, role)
        assert pod.metadata.labels["app.kubernetes.io/managed-by"] == "cloudnative-pg"
        owner = pod.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.uid, owner.controller) == ("Cluster", "pg", created["metadata"]["uid"], True)
        # The operator's own Pod spec (its instance manager, with TLS on the status port).
        assert pod.spec.containers[0].command[:3] == ["/controller/manager", "instance", "run"]
        assert pod.spec.containers[0].image == operator_made.spec.containers[0].image == "ghcr.io/cloudnative-pg/postgresql:17.5"
        assert pod.status.phase == "Running"
        assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"
    # The bootstrap Job ran to completion (simulated kubelet, real job controller).
    job = kubernetes.client.BatchV1Api(admin_api).read_namespaced_job("pg-1-initdb", namespace)
    assert job.status.succeeded == 1
    # Everything else is the real operator's.
    services = {s.metadata.name for s in core.list_namespaced_service(namespace, label_selector="cnpg.io/cluster=pg").items}
    assert services == {"pg-rw", "pg-ro", "pg-r"}
    secrets = {s.metadata.name: s.type for s in core.list_namespaced_secret(namespace).items}
    assert secrets == {"pg-app": "kubernetes.io/basic-auth", "pg-ca": "Opaque",
                       "pg-server": "kubernetes.io/tls", "pg-replication": "kubernetes.io/tls"}

    status = get_cluster(admin_api, namespace, "pg")["status"]  # read back, not just the patch reply
    assert status == returned["status"]
    assert status["phase"] == "Cluster in healthy state"
    assert (status["instances"], status["readyInstances"]) == (3, 3)
    assert status["instanceNames"] == ["pg-1", "pg-2", "pg-3"]
    assert status["currentPrimary"] == status["targetPrimary"] == "pg-1"
    assert (status["writeService"], status["readService"]) == ("pg-rw", "pg-r")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "ClusterIsReady")
    # Frozen: the operator leaves the simulated status alone from here on.
    assert get_cluster(admin_api, namespace, "pg")["metadata"]["annotations"]["cnpg.io/reconciliationLoop"] == "disabled"
    time.sleep(3)
    assert get_cluster(admin_api, namespace, "pg")["status"]["phase"] == "Cluster in healthy state"


def test_simulated_cluster_converges_on_a_new_primary_and_partial_readiness(
    admin_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    _create_cluster(admin_api, namespace, "pg")
    simulate_cluster_ready(admin_api, namespace, "pg")

    status = simulate_cluster_ready(admin_api, namespace, "pg", ready=1, primary_index=2)["status"]

    core = kubernetes.client.CoreV1Api(admin_api)
    primaries = core.list_namespaced_pod(namespace, label_selector="cnpg.io/cluster=pg,cnpg.io/instanceRole=primary")
    assert [p.metadata.name for p in primaries.items] == ["pg-2"]
    ready_pods = {
        p.metadata.name
        for p in core.list_namespaced_pod(namespace, label_selector="cnpg.io/podRole=instance").items
        if {c.type: c.status for c in p.status.conditions}["Ready"] == "True"
    }
    assert ready_pods == {"pg-2"}  # the primary is ready first
    assert status["phase"] == "Waiting for the instances to become active"
    assert (status["readyInstances"], status["currentPrimary"]) == (1, "pg-2")
    assert next(c for c in status["conditions"] if c["type"] == "Ready")["status"] == "False"

    # Arbitrary status patches, e.g. what `kubectl cnpg promote` writes.
    patched = set_cluster_status(admin_api, namespace, "pg", targetPrimary="pg-3", phase="Switchover in progress")
    assert (patched["status"]["targetPrimary"], patched["status"]["currentPrimary"]) == ("pg-3", "pg-2")


def test_apiserver_restart_keeps_the_data_and_the_port(
    controlplane: LocalControlPlane, admin_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    _create_cluster(admin_api, namespace, "survivor")
    host = controlplane.host
    core = kubernetes.client.CoreV1Api(admin_api)

    controlplane.stop_apiserver()
    try:
        with pytest.raises((HTTPError, OSError)):
            core.read_namespace(namespace, _request_timeout=2)
    finally:
        controlplane.start_apiserver()

    assert controlplane.host == host
    # A fresh client: the old one's pooled connections died with the old process.
    with controlplane.api_client() as fresh:
        assert kubernetes.client.CoreV1Api(fresh).read_namespace(namespace).metadata.name == namespace
        assert get_cluster(fresh, namespace, "survivor")["spec"]["instances"] == 3


def test_start_up_failure_reports_the_logs_and_leaves_nothing_behind() -> None:
    # A real failure: kube-apiserver cannot pass /readyz within 10 ms of being spawned (etcd
    # may or may not make it: it accepts connections early and answers once healthy).
    failing = LocalControlPlane(crds=False, start_timeout=0.01, verbose=False)

    with pytest.raises(RuntimeError) as failed:
        failing.start()

    message = str(failed.value)
    assert "not ready after" in message
    assert "--- etcd log" in message and "--listen-client-urls=" in message
    workdir = re.search(r"/cnpg-mcp-cp-[^/\s]+", message)
    assert workdir is not None
    assert failing.workdir is None
    assert not any(workdir.group(0) in _cmdline(pid) for pid in _pids())  # no etcd/apiserver left
    failing.stop()  # idempotent after a failed start


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


HANGING_TEST = '''
import json, os, time
from devenv.controlplane import LocalControlPlane

def test_hang():
    # The whole stack: etcd, kube-apiserver, kube-controller-manager and the operator (in its netns).
    cp = LocalControlPlane(verbose=False).start()
    info = {"pids": list(cp.pids.values()), "workdir": str(cp.workdir)}
    with open(os.environ["INFO_FILE"] + ".tmp", "w") as f:
        json.dump(info, f)
    os.rename(os.environ["INFO_FILE"] + ".tmp", os.environ["INFO_FILE"])
    time.sleep(120)
'''


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signalled_pytest_stops_every_control_plane_process(tmp_path: Path, signum: int) -> None:
    # etcd/apiserver run in their own sessions, so only our handlers can stop them: a Ctrl-C
    # (SIGINT → KeyboardInterrupt) or a CI job's SIGTERM to pytest must not leave them running.
    (tmp_path / "test_hang.py").write_text(textwrap.dedent(HANGING_TEST))
    info_file = tmp_path / "info.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), INFO_FILE=str(info_file))
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while not info_file.exists():
            assert child.poll() is None, child.stdout.read().decode() if child.stdout else ""
            assert time.monotonic() < deadline, "child control plane did not start"
            time.sleep(0.1)
        info = json.loads(info_file.read_text())
        pids = info["pids"]
        assert len(pids) == 5 and all(_alive(pid) for pid in pids)

        child.send_signal(signum)
        # Generous: stopping is quick, but a busy 2-core machine can stall any process for a while.
        child.wait(timeout=180)

        assert [pid for pid in pids if _alive(pid)] == []
        assert not Path(info["workdir"]).exists()
    finally:
        # Only if the behaviour under test failed: don't let this test leak processes either.
        for pid in pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
