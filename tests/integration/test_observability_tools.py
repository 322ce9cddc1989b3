"""Observability tools (pods, events, instance logs, connection info) against the real local API server.

No kubelet runs next to the bare API server, so log reads are tested three ways: a pod on no
node (the API answers an empty log), a Node whose kubelet port is closed (the API answers 500),
and a Node whose "kubelet" is a small HTTPS server in this test that the API server really
proxies the log request to.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kubernetes
import pytest

from app import create_app
from app.settings import Settings
from app.tools.observability import MAX_LOG_BYTES
from devenv import pki
from devenv.kubelet_sim import simulate_cluster_ready
from devenv.process import free_port
from tests.support.mcp_calls import ToolCaller, tool_caller

GROUP, VERSION = "postgresql.cnpg.io", "v1"
MERGE = "application/merge-patch+json"
TOOLS = ["cluster_pods", "cluster_events", "instance_logs", "cluster_connection_info"]


def _core(api: kubernetes.client.ApiClient) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(api)


def _custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


def _ready_cluster(tools: ToolCaller, admin_api, namespace: str, name: str = "pg", instances: int = 3,
                   **simulate: Any) -> None:
    tools.ok("cluster_create", name=name, namespace=namespace, instances=instances)
    simulate_cluster_ready(admin_api, namespace, name, **simulate)


def _pod(api, namespace: str, name: str, labels: dict[str, str], container: str = "postgres") -> None:
    _core(api).create_namespaced_pod(namespace, {
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": container, "image": "example/x:1"}]},
    })


def _node(api, address: str, port: int) -> str:
    """A Node object (no kubelet behind it unless the test starts one) whose kubelet is address:port."""
    name = f"node-{uuid.uuid4().hex[:8]}"
    _core(api).create_node({
        "metadata": {"name": name},
        "status": {"addresses": [{"type": "InternalIP", "address": address}],
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}},
    })
    return name


def _bind(api, namespace: str, pod: str, node: str) -> None:
    """What the scheduler does: bind the pod to a node (spec.nodeName is set through pods/binding)."""
    _core(api).create_namespaced_pod_binding(pod, namespace, {
        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }, _preload_content=False)


# --- cluster_pods ----------------------------------------------------------


def test_pods_lists_instances_first_with_role_readiness_and_restarts(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _ready_cluster(tools, admin_api, namespace, ready=2, primary_index=2)
    core = _core(admin_api)
    # pg-3 carries only the legacy `role` label, and crash-loops.
    core.patch_namespaced_pod("pg-3", namespace, {"metadata": {"labels": {"cnpg.io/instanceRole": None}}},
                              _content_type=MERGE)
    core.patch_namespaced_pod_status("pg-3", namespace, {"status": {"containerStatuses": [{
        "name": "postgres", "image": "x", "imageID": "", "ready": False, "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    }]}}, _content_type=MERGE)
    _pod(admin_api, namespace, "pg-pooler-rw-5d9c", {
        "cnpg.io/cluster": "pg", "cnpg.io/podRole": "pooler", "cnpg.io/poolerName": "pg-pooler-rw"}, "pgbouncer")
    _pod(admin_api, namespace, "pg2-1", {"cnpg.io/cluster": "pg2", "cnpg.io/podRole": "instance"})

    out = tools.ok("cluster_pods", name="pg", namespace=namespace)

    assert (out["current_primary"], out["target_primary"], out["count"]) == ("pg-2", "pg-2", 5)
    rows = [(p["name"], p["component"], p["role"], p["ready"], p["restarts"], p["reason"]) for p in out["pods"]]
    # The last row is the pod of the operator's own initdb Job (created by the real job controller; the
    # kubelet simulator marked it Succeeded): its name carries the job controller's random suffix.
    job_pod = rows.pop()
    assert job_pod[0].startswith("pg-1-initdb-") and job_pod[1:] == ("job", None, False, 0, "Completed")
    assert rows == [
        ("pg-1", "instance", "replica", True, 0, None),
        ("pg-2", "instance", "primary", True, 0, None),
        ("pg-3", "instance", "replica", False, 4, "CrashLoopBackOff"),
        ("pg-pooler-rw-5d9c", "pooler", None, False, 0, None),
    ]
    first = out["pods"][0]
    assert first["phase"] == "Running" and first["node"] is None and first["age"] is not None


def test_pods_of_an_unknown_cluster_names_the_clusters_that_exist(tools: ToolCaller, namespace: str) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=1)

    message = tools.error("cluster_pods", name="pgg", namespace=namespace)

    assert message == f"Cluster 'pgg' not found in namespace {namespace!r}; clusters there: pg"


# --- cluster_events --------------------------------------------------------


def _event(api, namespace: str, kind: str, name: str, reason: str, when: str, type_: str = "Normal",
           api_version: str = "v1") -> None:
    _core(api).create_namespaced_event(namespace, {
        "metadata": {"name": f"{name}.{uuid.uuid4().hex[:10]}"},
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace, "apiVersion": api_version},
        "reason": reason, "message": f"{reason} on {kind} {name}", "type": type_, "count": 1,
        "firstTimestamp": when, "lastTimestamp": when, "source": {"component": "cloudnative-pg"},
    })


@pytest.fixture
def cluster_with_objects(tools: ToolCaller, admin_api, namespace: str) -> str:
    """Cluster pg with pods pg-1, pg-2 (pg-2's Pod then deleted), and the PVC pg-1 and Job pg-1-initdb
    the real operator made for it, backups and a pooler; and backups of a neighbour pg2 whose objects
    must never show up."""
    _ready_cluster(tools, admin_api, namespace, instances=2)
    core = _core(admin_api)
    core.delete_namespaced_pod("pg-2", namespace)  # failed over and gone; its events stay relevant
    core.read_namespaced_persistent_volume_claim("pg-1", namespace)  # the operator's
    kubernetes.client.BatchV1Api(admin_api).read_namespaced_job("pg-1-initdb", namespace)  # the operator's
    for backup, owner in (("pg-20260101", "pg"), ("pg2-20260101", "pg2")):
        _custom(admin_api).create_namespaced_custom_object(GROUP, VERSION, namespace, "backups", {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "Backup", "metadata": {"name": backup},
            "spec": {"cluster": {"name": owner}},
        })
    tools.ok("pooler_create", cluster="pg", namespace=namespace)
    return "pg"


def test_events_keep_those_of_the_cluster_and_its_objects_newest_first(
    tools: ToolCaller, admin_api, namespace: str, cluster_with_objects: str
) -> None:
    cnpg = f"{GROUP}/{VERSION}"
    mine = [
        ("Cluster", "pg", "CreatingPodDisruptionBudget", "2099-01-01T10:00:00Z", "Normal", cnpg),
        ("Pod", "pg-1", "Unhealthy", "2099-01-01T10:01:00Z", "Warning", "v1"),
        ("Pod", "pg-2", "Killing", "2099-01-01T10:02:00Z", "Normal", "v1"),
        ("PersistentVolumeClaim", "pg-1", "ProvisioningFailed", "2099-01-01T10:03:00Z", "Warning", "v1"),
        ("Job", "pg-1-initdb", "Completed", "2099-01-01T10:04:00Z", "Normal", "batch/v1"),
        ("Backup", "pg-20260101", "Starting", "2099-01-01T10:05:00Z", "Normal", cnpg),
        ("Pooler", "pg-pooler-rw", "CreatingDeployment", "2099-01-01T10:06:00Z", "Normal", cnpg),
        ("Deployment", "pg-pooler-rw", "ScalingReplicaSet", "2099-01-01T10:07:00Z", "Normal", "apps/v1"),
    ]
    others = [
        ("Cluster", "pg2", "CreatingPodDisruptionBudget", "2099-01-01T11:00:00Z", "Normal", cnpg),
        ("Pod", "pg2-1", "Unhealthy", "2099-01-01T11:01:00Z", "Warning", "v1"),
        ("Backup", "pg2-20260101", "Failed", "2099-01-01T11:02:00Z", "Warning", cnpg),
        ("Service", "pg-rw", "Updated", "2099-01-01T11:03:00Z", "Normal", "v1"),
    ]
    for kind, name, reason, when, type_, api_version in mine + others:
        _event(admin_api, namespace, kind, name, reason, when, type_, api_version)

    everything = tools.ok("cluster_events", name="pg", namespace=namespace)
    newest = tools.ok("cluster_events", name="pg", namespace=namespace, limit=3)
    warnings = tools.ok("cluster_events", name="pg", namespace=namespace, type="Warning")

    # The test's events are dated in the future, so they come first; then the real ones, from the
    # operator (Cluster/pg, Pooler) and kube-controller-manager (Job/pg-1-initdb, the Pooler's Deployment).
    real = everything["events"][8:]
    assert everything["matched"] == everything["count"] > 8
    assert [e["object"] for e in everything["events"][:8]] == [f"{k}/{n}" for k, n, *_ in reversed(mine)]
    assert {"Cluster/pg", "Job/pg-1-initdb"} <= {e["object"] for e in real}
    assert {e["source"] for e in real} >= {"cloudnative-pg", "job-controller"}
    assert not {e["object"] for e in everything["events"]} & {"Cluster/pg2", "Pod/pg2-1", "Backup/pg2-20260101",
                                                              "Service/pg-rw"}
    assert everything["events"][7] == {
        "last_seen": "2099-01-01T10:00:00Z", "type": "Normal", "reason": "CreatingPodDisruptionBudget",
        "object": "Cluster/pg", "message": "CreatingPodDisruptionBudget on Cluster pg", "count": 1,
        "source": "cloudnative-pg",
    }
    assert (newest["matched"], newest["count"]) == (everything["matched"], 3)
    assert [e["reason"] for e in newest["events"]] == ["ScalingReplicaSet", "CreatingDeployment", "Starting"]
    assert [e["object"] for e in warnings["events"] if e["last_seen"].startswith("2099")] == [
        "PersistentVolumeClaim/pg-1", "Pod/pg-1"]
    assert {e["type"] for e in warnings["events"]} == {"Warning"}


def test_events_order_mixed_timestamp_styles_by_time(tools: ToolCaller, admin_api, namespace: str) -> None:
    _ready_cluster(tools, admin_api, namespace, instances=1)
    _event(admin_api, namespace, "Pod", "pg-1", "Older", "2099-01-01T10:00:00Z")
    # An events.k8s.io-style event: eventTime with microseconds, no lastTimestamp.
    _core(admin_api).create_namespaced_event(namespace, {
        "metadata": {"name": f"pg-1.{uuid.uuid4().hex[:10]}"},
        "involvedObject": {"kind": "Pod", "name": "pg-1", "namespace": namespace, "apiVersion": "v1"},
        "reason": "Newer", "message": "m", "type": "Normal", "action": "Check",
        "eventTime": "2099-01-01T10:00:00.500000Z", "reportingComponent": "kubelet", "reportingInstance": "n1",
    })

    out = tools.ok("cluster_events", name="pg", namespace=namespace)

    assert [(e["reason"], e["source"]) for e in out["events"]][:2] == [("Newer", "kubelet"), ("Older", "cloudnative-pg")]
    assert out["events"][0]["last_seen"] == "2099-01-01T10:00:00.500000Z"


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"limit": 0}, "limit: 0 is less than the minimum of 1"),
    ({"limit": 201}, "limit: 201 is greater than the maximum of 200"),
    ({"type": "Error"}, "type: 'Error' is not one of ['Normal', 'Warning']"),
])
def test_events_refuse_bad_limits_and_types(tools: ToolCaller, namespace: str, arguments: dict[str, Any],
                                            expected: str) -> None:
    assert expected in tools.error("cluster_events", name="pg", namespace=namespace, **arguments)


def test_events_of_an_unknown_cluster_are_not_found(tools: ToolCaller, namespace: str) -> None:
    message = tools.error("cluster_events", name="pg", namespace=namespace)

    assert message == f"Cluster 'pg' not found in namespace {namespace!r}; there are no clusters in that namespace"


# --- instance_logs ---------------------------------------------------------


class _FakeKubelet:
    """An HTTPS server answering the kubelet's /containerLogs endpoint, which the API server proxies
    log requests to. It records each request's path and query, and serves `body`."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.body = b""
        ca = pki.make_ca("fake-kubelet-ca")
        self._leaf = pki.issue(ca, "fake-kubelet", server=True, ips=("127.0.0.1",))
        kubelet = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                kubelet.requests.append((url.path, parse_qs(url.query)))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(kubelet.body)))
                self.end_headers()
                self.wfile.write(kubelet.body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def __enter__(self) -> _FakeKubelet:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert, key = self._directory / "tls.crt", self._directory / "tls.key"
        self._leaf.write(cert, key)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def kubelet(tmp_path: Path) -> Iterator[_FakeKubelet]:
    with _FakeKubelet(tmp_path) as fake:
        yield fake


def test_logs_come_from_the_kubelet_with_the_requested_window(
    tools: ToolCaller, admin_api, namespace: str, kubelet: _FakeKubelet
) -> None:
    _ready_cluster(tools, admin_api, namespace, instances=2)
    node = _node(admin_api, "127.0.0.1", kubelet.port)
    _bind(admin_api, namespace, "pg-2", node)
    kubelet.body = b'{"level":"info","msg":"database system is ready"}\n{"level":"info","msg":"checkpoint"}\n'

    default = tools.ok("instance_logs", cluster="pg", namespace=namespace, instance="2")
    windowed = tools.ok("instance_logs", cluster="pg", namespace=namespace, instance="pg-2", tail_lines=5000,
                        since_seconds=600, previous=True)

    assert default == {
        "cluster": "pg", "namespace": namespace, "pod": "pg-2", "container": "postgres", "node": node,
        "line_count": 2, "truncated": False, "note": None,
        "lines": ['{"level":"info","msg":"database system is ready"}', '{"level":"info","msg":"checkpoint"}'],
    }
    assert windowed["lines"] == default["lines"]
    (path, query), (_, windowed_query) = kubelet.requests
    assert path == f"/containerLogs/{namespace}/pg-2/postgres"
    assert query == {"tailLines": ["100"]}
    assert windowed_query == {"tailLines": ["5000"], "sinceSeconds": ["600"], "previous": ["true"]}


def test_logs_of_one_json_document_stay_text_and_huge_logs_keep_the_newest_lines(
    tools: ToolCaller, admin_api, namespace: str, kubelet: _FakeKubelet
) -> None:
    _ready_cluster(tools, admin_api, namespace, instances=1)
    _bind(admin_api, namespace, "pg-1", _node(admin_api, "127.0.0.1", kubelet.port))

    kubelet.body = b'{"level":"error","msg":"could not start"}'
    single = tools.ok("instance_logs", cluster="pg", namespace=namespace, instance="pg-1")
    kubelet.body = b"".join(b"%05d %s\n" % (i, b"x" * 400) for i in range(5000))  # 407 bytes a line, ~2 MB
    huge = tools.ok("instance_logs", cluster="pg", namespace=namespace, instance="pg-1", tail_lines=5000)

    assert single["lines"] == ['{"level":"error","msg":"could not start"}']
    assert huge["truncated"] is True and huge["line_count"] == MAX_LOG_BYTES // 407
    assert huge["lines"][-1].startswith("04999 ") and "narrow since_seconds or tail_lines" in huge["note"]


def test_logs_when_the_kubelet_cannot_be_reached_say_so(tools: ToolCaller, admin_api, namespace: str) -> None:
    _ready_cluster(tools, admin_api, namespace, instances=1)
    node = _node(admin_api, "127.0.0.1", free_port())  # nothing listens there: the bare control plane's case
    _bind(admin_api, namespace, "pg-1", node)

    message = tools.error("instance_logs", cluster="pg", namespace=namespace, instance="pg-1")

    assert message.startswith(f"logs unavailable: the API server could not reach the node's kubelet (node {node!r}: ")
    assert "connection refused" in message and message.endswith("read the logs from your log collector")


def test_logs_of_a_pod_on_an_unregistered_node_say_so(tools: ToolCaller, admin_api, namespace: str) -> None:
    _ready_cluster(tools, admin_api, namespace, instances=1)
    _bind(admin_api, namespace, "pg-1", "node-that-left")

    message = tools.error("instance_logs", cluster="pg", namespace=namespace, instance="pg-1")

    assert message == ("logs unavailable: node 'node-that-left' of pod 'pg-1' is not registered with the API server "
                       "(removed or lost)")


def test_logs_of_an_unscheduled_instance_are_empty_and_explained(tools: ToolCaller, admin_api, namespace: str) -> None:
    _ready_cluster(tools, admin_api, namespace, instances=2)

    out = tools.ok("instance_logs", cluster="pg", namespace=namespace, instance="2")

    assert (out["pod"], out["node"], out["lines"], out["truncated"]) == ("pg-2", None, [], False)
    assert out["note"] == "Pod 'pg-2' is not scheduled on any node yet, so its container has not run and has no logs."


def test_logs_are_refused_for_pods_that_are_not_instances_of_the_cluster(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _ready_cluster(tools, admin_api, namespace, instances=2)
    _ready_cluster(tools, admin_api, namespace, name="pg2", instances=1)
    _pod(admin_api, namespace, "pg-pooler-rw-5d9c", {"cnpg.io/cluster": "pg", "cnpg.io/podRole": "pooler"},
         "pgbouncer")
    _pod(admin_api, namespace, "web", {"app": "web"})

    other_cluster = tools.error("instance_logs", cluster="pg", namespace=namespace, instance="pg2-1")
    unlabelled = tools.error("instance_logs", cluster="pg", namespace=namespace, instance="web")
    pooler = tools.error("instance_logs", cluster="pg", namespace=namespace, instance="pg-pooler-rw-5d9c")
    missing = tools.error("instance_logs", cluster="pg", namespace=namespace, instance="7")
    no_cluster = tools.error("instance_logs", cluster="pgx", namespace=namespace, instance="pgx-1")

    assert other_cluster == ("Pod 'pg2-1' does not belong to cluster 'pg' (label cnpg.io/cluster is 'pg2'); "
                             "only a cluster's own instances can be read")
    assert "label cnpg.io/cluster is None" in unlabelled
    assert pooler == ("Pod 'pg-pooler-rw-5d9c' is not a PostgreSQL instance (containers: pgbouncer); "
                      "use cluster_pods to find the instances")
    assert missing == "Instance 'pg-7' of cluster 'pg' not found; its instances: pg-1, pg-2"
    assert no_cluster.startswith("Cluster 'pgx' not found")


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"tail_lines": 5001}, "tail_lines: 5001 is greater than the maximum of 5000"),
    ({"tail_lines": 0}, "tail_lines: 0 is less than the minimum of 1"),
    ({"since_seconds": 0}, "since_seconds: 0 is less than the minimum of 1"),
    ({"instance": "PG_1"}, "instance: 'PG_1' does not match"),
])
def test_logs_refuse_bad_input(tools: ToolCaller, namespace: str, arguments: dict[str, Any], expected: str) -> None:
    message = tools.error("instance_logs", **{"cluster": "pg", "namespace": namespace, "instance": "pg-1", **arguments})

    assert expected in message


# --- cluster_connection_info -----------------------------------------------


def test_connection_info_names_services_secrets_and_poolers_but_never_a_password(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=1, database="shop", owner="shopper",
             enable_superuser_access=True)
    simulate_cluster_ready(admin_api, namespace, "pg")  # creates pg-app with a real password
    tools.ok("pooler_create", cluster="pg", namespace=namespace, pool_mode="transaction")
    password = _core(admin_api).read_namespaced_secret("pg-app", namespace).data["password"]

    out = tools.ok("cluster_connection_info", name="pg", namespace=namespace)

    assert (out["database"], out["owner"], out["port"]) == ("shop", "shopper", 5432)
    assert out["services"] == [
        {"name": "pg-rw", "fqdn": f"pg-rw.{namespace}.svc", "port": 5432, "routes_to": "the primary (read-write)"},
        {"name": "pg-ro", "fqdn": f"pg-ro.{namespace}.svc", "port": 5432, "routes_to": "replicas only (read-only)"},
        {"name": "pg-r", "fqdn": f"pg-r.{namespace}.svc", "port": 5432, "routes_to": "any instance (read)"},
    ]
    assert out["poolers"] == [{"name": "pg-pooler-rw", "fqdn": f"pg-pooler-rw.{namespace}.svc", "port": 5432,
                               "routes_to": "the primary (read-write)", "pool_mode": "transaction"}]
    assert out["secrets"] == {"application": "pg-app", "superuser": "pg-superuser"}
    assert out["psql_example"] == (
        f"PGPASSWORD=\"$(kubectl get secret pg-app -n {namespace} -o jsonpath='{{.data.password}}' | base64 -d)\" "
        f"psql \"host=pg-rw.{namespace}.svc port=5432 dbname=shop user=shopper sslmode=require\""
    )
    assert out["port_forward_example"] == f"kubectl port-forward -n {namespace} svc/pg-rw 5432:5432"
    text = json.dumps(out)
    assert base64.b64decode(password).decode() not in text and password not in text


def test_connection_info_follows_custom_secrets_defaults_and_managed_services(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _custom(admin_api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "pg"},
        "spec": {
            "instances": 1, "storage": {"size": "1Gi"},
            "bootstrap": {"initdb": {"secret": {"name": "shop-credentials"}}},
            "enableSuperuserAccess": True, "superuserSecret": {"name": "root-credentials"},
            "managed": {"services": {
                "disabledDefaultServices": ["ro", "r"],
                "additional": [{"selectorType": "rw", "serviceTemplate": {"metadata": {"name": "pg-public"},
                                                                          "spec": {"type": "LoadBalancer"}}}],
            }},
        },
    })
    _custom(admin_api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "bare"},
        "spec": {"instances": 1, "storage": {"size": "1Gi"}},
    })

    custom = tools.ok("cluster_connection_info", name="pg", namespace=namespace)
    bare = tools.ok("cluster_connection_info", name="bare", namespace=namespace)

    assert [s["name"] for s in custom["services"]] == ["pg-rw", "pg-public"]
    assert custom["services"][1]["routes_to"] == "the primary (read-write)"
    assert custom["secrets"] == {"application": "shop-credentials", "superuser": "root-credentials"}
    assert (custom["database"], custom["owner"]) == ("app", "app")
    assert "kubectl get secret shop-credentials" in custom["psql_example"]
    assert bare["secrets"] == {"application": "bare-app", "superuser": None} and bare["poolers"] == []
    assert (bare["database"], bare["owner"]) == ("app", "app")


def test_connection_info_of_an_unknown_cluster_is_not_found(tools: ToolCaller, namespace: str) -> None:
    message = tools.error("cluster_connection_info", name="pg", namespace=namespace)

    assert message == f"Cluster 'pg' not found in namespace {namespace!r}; there are no clusters in that namespace"


# --- read-only mode and namespace allowlist --------------------------------


def test_read_only_mode_keeps_every_observability_tool(kubeconfig: Path, admin_api, namespace: str) -> None:
    _ready_cluster(tool_caller(kubeconfig), admin_api, namespace, instances=1)
    client = create_app(Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_READ_ONLY": "true"})).test_client()
    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()

    assert set(TOOLS) <= {t["name"] for t in listed["result"]["tools"]}
    pods = ToolCaller(client).ok("cluster_pods", name="pg", namespace=namespace)["pods"]
    assert [p["component"] for p in pods] == ["instance", "job"]  # pg-1 and the operator's initdb Job pod


@pytest.mark.parametrize("tool", TOOLS)
def test_namespace_allowlist_refuses_other_namespaces(kubeconfig: Path, namespace: str, tool: str) -> None:
    arguments = {"name": "pg", "cluster": "pg", "instance": "pg-1"}
    arguments = {k: v for k, v in arguments.items() if (k == "name") != (tool == "instance_logs")}

    message = tool_caller(kubeconfig, MCP_NAMESPACES="other").error(tool, namespace=namespace, **arguments)

    assert message == f"Namespace {namespace!r} is not served by this server; allowed: other"
