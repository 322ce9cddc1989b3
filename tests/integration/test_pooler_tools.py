"""PgBouncer pooler tools against the real local API server with the real CloudNativePG CRDs."""

from __future__ import annotations

import json
import re
import time

from pathlib import Path
from typing import Any

import kubernetes
import pytest

from app import create_app
from app.settings import Settings
from app.tools.poolers import ALLOWED_PGBOUNCER_PARAMETERS
from devenv.crds import module_dir
from tests.support.mcp_calls import ToolCaller, tool_caller

GROUP, VERSION = "postgresql.cnpg.io", "v1"
MUTATING = ["pooler_create", "pooler_scale", "pooler_delete"]


def _custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


def _read_pooler(api: kubernetes.client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return _custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, "poolers", name)


def _pooler_names(api: kubernetes.client.ApiClient, namespace: str) -> list[str]:
    items = _custom(api).list_namespaced_custom_object(GROUP, VERSION, namespace, "poolers")["items"]
    return sorted(item["metadata"]["name"] for item in items)


def _make_pooler(api: kubernetes.client.ApiClient, namespace: str, name: str, cluster: str, **spec: Any) -> None:
    """A pooler written directly (as a user with kubectl would), not through the tools."""
    _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "poolers", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Pooler", "metadata": {"name": name},
        "spec": {"cluster": {"name": cluster}, "pgbouncer": {}, **spec},
    })


@pytest.fixture
def cluster(tools: ToolCaller, namespace: str) -> str:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=1)
    return "pg"


# --- create ----------------------------------------------------------------


def test_create_makes_the_pooler_the_arguments_describe(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    out = tools.ok("pooler_create", cluster=cluster, namespace=namespace, name="pg-reports", type="ro", instances=3,
                   pool_mode="transaction", parameters={"max_client_conn": "1000", "default_pool_size": "10"})

    assert out["created"] is True and out["dry_run"] is False
    assert out["service"] == {"name": "pg-reports", "fqdn": f"pg-reports.{namespace}.svc", "port": 5432,
                              "routes_to": "replicas only (read-only)"}
    pooler = _read_pooler(admin_api, namespace, "pg-reports")
    assert pooler["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "cnpg-mcp-server"}
    spec = pooler["spec"]
    assert spec["cluster"] == {"name": "pg"} and spec["type"] == "ro" and spec["instances"] == 3
    assert spec["pgbouncer"]["poolMode"] == "transaction"
    assert spec["pgbouncer"]["parameters"] == {"max_client_conn": "1000", "default_pool_size": "10"}
    assert out["pooler"]["parameters"] == {"max_client_conn": "1000", "default_pool_size": "10"}


def test_create_defaults_to_one_rw_session_pooler_named_after_the_cluster(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    out = tools.ok("pooler_create", cluster=cluster, namespace=namespace)

    assert out["pooler"]["name"] == "pg-pooler-rw"
    spec = _read_pooler(admin_api, namespace, "pg-pooler-rw")["spec"]
    assert (spec["type"], spec["instances"], spec["pgbouncer"]["poolMode"]) == ("rw", 1, "session")
    assert "parameters" not in spec["pgbouncer"]
    assert tools.ok("pooler_create", cluster=cluster, namespace=namespace, type="r")["pooler"]["name"] == "pg-pooler-r"


def test_create_dry_run_shows_the_accepted_spec_and_creates_nothing(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    out = tools.ok("pooler_create", cluster=cluster, namespace=namespace, type="ro", dry_run=True)

    assert out["created"] is False and out["dry_run"] is True
    # A CRD default applied by the API server shows the request went all the way through validation.
    assert out["spec"]["pgbouncer"]["paused"] is False and out["pooler"]["name"] == "pg-pooler-ro"
    assert _pooler_names(admin_api, namespace) == []


def test_create_refuses_parameters_cloudnativepg_manages(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    message = tools.error("pooler_create", cluster=cluster, namespace=namespace,
                          parameters={"listen_port": "6432", "max_client_conn": "100", "auth_file": "/x"})

    assert message.startswith("CloudNativePG manages or does not support these PgBouncer parameters: "
                              "auth_file, listen_port. Allowed: application_name_add_host, auth_type,")
    assert _pooler_names(admin_api, namespace) == []


def _dry_run_pooler(api, namespace: str, name: str, cluster: str, parameters: dict[str, str]) -> None:
    """Send a Pooler straight to the API server (dry run) so only the operator's webhook judges it."""
    _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "poolers", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Pooler", "metadata": {"name": name},
        "spec": {"cluster": {"name": cluster}, "pgbouncer": {"parameters": parameters}},
    }, dry_run="All")


def test_the_parameter_allow_list_is_the_operators(admin_api, namespace: str, cluster: str) -> None:
    """pooler_create checks parameters itself (a clearer message, and a PgBouncer config that works where
    the webhook is not installed); this pins that list to the operator's webhook, both ways."""
    source = (module_dir() / "internal/webhook/v1/pooler_webhook.go").read_text()
    block = source.split("AllowedPgbouncerGenericConfigurationParameters = stringset.From([]string{", 1)[1]
    assert set(re.findall(r'"([a-z0-9_]+)"', block.split("})", 1)[0])) == ALLOWED_PGBOUNCER_PARAMETERS

    _dry_run_pooler(admin_api, namespace, "pg-all", cluster, dict.fromkeys(ALLOWED_PGBOUNCER_PARAMETERS, "1"))
    with pytest.raises(kubernetes.client.ApiException) as refused:
        _dry_run_pooler(admin_api, namespace, "pg-bad", cluster, {"listen_port": "6432"})
    message = json.loads(refused.value.body)["message"]
    assert message.startswith('admission webhook "vpooler.cnpg.io" denied the request')
    assert "Invalid or reserved parameter" in message


def test_the_operator_also_refuses_a_pooler_named_like_its_cluster(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    """Our check (no cluster in the namespace may have the name) is the wider one; the webhook's agrees."""
    with pytest.raises(kubernetes.client.ApiException) as refused:
        _dry_run_pooler(admin_api, namespace, cluster, cluster, {})
    assert "the pooler resource cannot have the same name of a cluster" in refused.value.body
    assert tools.error("pooler_create", cluster=cluster, namespace=namespace, name=cluster).startswith(
        "A pooler cannot have the name of a cluster in its namespace")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"instances": 0}, "instances: 0 is less than the minimum of 1"),
        ({"instances": 11}, "instances: 11 is greater than the maximum of 10"),
        ({"type": "rwx"}, "type: 'rwx' is not one of ['rw', 'ro', 'r']"),
        ({"pool_mode": "statement"}, "pool_mode: 'statement' is not one of ['session', 'transaction']"),
        ({"name": "1-pooler"}, "name: '1-pooler' does not match"),
        ({"parameters": {"max_client_conn": 1000}}, "parameters/max_client_conn: 1000 is not of type 'string'"),
        ({"colour": "blue"}, "('colour' was unexpected)"),
    ],
)
def test_create_refuses_bad_input_before_calling_the_api(
    tools: ToolCaller, admin_api, namespace: str, cluster: str, arguments: dict[str, Any], expected: str
) -> None:
    message = tools.error("pooler_create", **{"cluster": cluster, "namespace": namespace, **arguments})

    assert message.startswith("Invalid arguments for tool 'pooler_create'") and expected in message
    assert _pooler_names(admin_api, namespace) == []


def test_create_needs_an_existing_cluster_and_a_name_no_cluster_has(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    tools.ok("cluster_create", name="pg-other", namespace=namespace, instances=1)

    missing = tools.error("pooler_create", cluster="pg-mian", namespace=namespace)
    clash = tools.error("pooler_create", cluster=cluster, namespace=namespace, name="pg-other")

    assert missing == f"Cluster 'pg-mian' not found in namespace {namespace!r}; clusters there: pg, pg-other"
    assert clash == ("A pooler cannot have the name of a cluster in its namespace: 'pg-other' is a cluster; "
                     "choose another name")
    assert _pooler_names(admin_api, namespace) == []


def test_create_twice_says_it_already_exists(tools: ToolCaller, namespace: str, cluster: str) -> None:
    tools.ok("pooler_create", cluster=cluster, namespace=namespace)

    message = tools.error("pooler_create", cluster=cluster, namespace=namespace)

    assert message.startswith("Already exists: cannot create pooler 'pg-pooler-rw'")


# --- list ------------------------------------------------------------------


def _wait_for_poolers(tools: ToolCaller, namespace: str, done, ceiling: float = 120.0) -> dict:
    """pooler_list once every pooler satisfies `done` (the operator reconciles asynchronously)."""
    deadline = time.monotonic() + ceiling
    while True:
        listed = tools.ok("pooler_list", namespace=namespace)
        if listed["poolers"] and all(done(p) for p in listed["poolers"]):
            return listed
        if time.monotonic() > deadline:
            raise AssertionError(f"poolers never settled: {listed['poolers']}")
        time.sleep(0.5)


def test_list_shows_each_pooler_with_its_spec_and_status(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    tools.ok("cluster_create", name="pg-two", namespace=namespace, instances=1)
    tools.ok("pooler_create", cluster=cluster, namespace=namespace, instances=2, pool_mode="transaction")
    tools.ok("pooler_create", cluster="pg-two", namespace=namespace, type="ro")
    # The real operator makes each pooler's Deployment (whose ReplicaSet creates the pods) and reports
    # it "active" once the cluster's pooler auth Secret exists: wait for that, as a user would.
    everything = _wait_for_poolers(tools, namespace, lambda p: p["phase"] == "active" and p["status_instances"] == p["instances"])
    of_one = tools.ok("pooler_list", namespace=namespace, cluster="pg-two")

    assert everything["scope"] == f"namespace {namespace}" and everything["count"] == 2
    rw, ro = everything["poolers"]
    assert rw == {
        "name": "pg-pooler-rw", "namespace": namespace, "cluster": "pg", "type": "rw", "instances": 2,
        "pool_mode": "transaction", "status_instances": 2, "phase": "active", "phase_reason": None, "paused": False,
        "service": "pg-pooler-rw", "parameters": {}, "age": rw["age"],
    }
    assert rw["age"] is not None
    assert (ro["name"], ro["cluster"], ro["status_instances"], ro["phase"]) == ("pg-two-pooler-ro", "pg-two", 1, "active")
    assert of_one["scope"] == f"cluster pg-two in namespace {namespace}"
    assert [p["name"] for p in of_one["poolers"]] == ["pg-two-pooler-ro"]


def test_list_by_cluster_keeps_poolers_of_a_deleted_cluster_and_rejects_unknown_ones(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    # Pooler and Cluster lifecycles are independent: a pooler may outlive its cluster.
    _make_pooler(admin_api, namespace, "gone-pooler", "gone")

    orphans = tools.ok("pooler_list", namespace=namespace, cluster="gone")
    none_yet = tools.ok("pooler_list", namespace=namespace, cluster=cluster)
    unknown = tools.error("pooler_list", namespace=namespace, cluster="nope")

    assert [p["name"] for p in orphans["poolers"]] == ["gone-pooler"]
    assert none_yet["count"] == 0
    assert unknown == f"Cluster 'nope' not found in namespace {namespace!r}; clusters there: pg"


def test_list_of_a_missing_namespace_is_a_clear_error(tools: ToolCaller) -> None:
    assert tools.error("pooler_list", namespace="nowhere") == "Namespace 'nowhere' does not exist"


# --- scale -----------------------------------------------------------------


def test_scale_patches_only_the_instance_count_and_reports_the_previous(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    tools.ok("pooler_create", cluster=cluster, namespace=namespace, instances=2, parameters={"verbose": "1"})

    preview = tools.ok("pooler_scale", name="pg-pooler-rw", namespace=namespace, instances=4, dry_run=True)
    after_preview = _read_pooler(admin_api, namespace, "pg-pooler-rw")["spec"]["instances"]
    done = tools.ok("pooler_scale", name="pg-pooler-rw", namespace=namespace, instances=4)

    assert preview == {"name": "pg-pooler-rw", "namespace": namespace, "dry_run": True,
                       "previous_instances": 2, "instances": 4}
    assert after_preview == 2
    assert done == {**preview, "dry_run": False}
    spec = _read_pooler(admin_api, namespace, "pg-pooler-rw")["spec"]
    assert spec["instances"] == 4 and spec["pgbouncer"]["parameters"] == {"verbose": "1"}


def test_scale_of_an_unknown_pooler_names_the_poolers_that_exist(
    tools: ToolCaller, namespace: str, cluster: str
) -> None:
    empty = tools.error("pooler_scale", name="pg-pooler-rw", namespace=namespace, instances=2)
    tools.ok("pooler_create", cluster=cluster, namespace=namespace)
    tools.ok("pooler_create", cluster=cluster, namespace=namespace, type="ro")

    typo = tools.error("pooler_scale", name="pg-pooler-rx", namespace=namespace, instances=2)
    too_many = tools.error("pooler_scale", name="pg-pooler-rw", namespace=namespace, instances=11)

    assert empty == f"Pooler 'pg-pooler-rw' not found in namespace {namespace!r}; there are no poolers in that namespace"
    assert typo == f"Pooler 'pg-pooler-rx' not found in namespace {namespace!r}; poolers there: pg-pooler-ro, pg-pooler-rw"
    assert "instances: 11 is greater than the maximum of 10" in too_many


# --- delete ----------------------------------------------------------------


def test_delete_needs_the_name_repeated(tools: ToolCaller, admin_api, namespace: str, cluster: str) -> None:
    tools.ok("pooler_create", cluster=cluster, namespace=namespace)

    wrong = tools.error("pooler_delete", name="pg-pooler-rw", namespace=namespace, confirm="pg")
    absent = tools.error("pooler_delete", name="pg-pooler-rw", namespace=namespace)

    assert wrong == "To delete pooler 'pg-pooler-rw', repeat 'pg-pooler-rw' exactly in confirm"
    assert "'confirm' is a required property" in absent
    assert _pooler_names(admin_api, namespace) == ["pg-pooler-rw"]


def test_delete_dry_run_keeps_it_and_delete_removes_only_the_pooler(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    tools.ok("pooler_create", cluster=cluster, namespace=namespace)
    tools.ok("pooler_create", cluster=cluster, namespace=namespace, type="ro")

    preview = tools.ok("pooler_delete", name="pg-pooler-rw", namespace=namespace, confirm="pg-pooler-rw", dry_run=True)
    still_there = _pooler_names(admin_api, namespace)
    done = tools.ok("pooler_delete", name="pg-pooler-rw", namespace=namespace, confirm="pg-pooler-rw")

    assert (preview["deleted"], preview["dry_run"], preview["cluster"]) == (False, True, "pg")
    assert still_there == ["pg-pooler-ro", "pg-pooler-rw"]
    assert done["deleted"] is True and "Service 'pg-pooler-rw'" in done["note"]
    assert _pooler_names(admin_api, namespace) == ["pg-pooler-ro"]
    _custom(admin_api).get_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg")  # untouched


def test_delete_of_a_missing_pooler_is_not_found(tools: ToolCaller, namespace: str) -> None:
    message = tools.error("pooler_delete", name="ghost", namespace=namespace, confirm="ghost")

    assert message == f"Pooler 'ghost' not found in namespace {namespace!r}; there are no poolers in that namespace"


# --- read-only mode and namespace allowlist --------------------------------


@pytest.mark.parametrize("tool", MUTATING)
def test_read_only_mode_hides_and_refuses_the_mutating_tools(kubeconfig: Path, tool: str) -> None:
    client = create_app(Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_READ_ONLY": "true"})).test_client()
    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()
    called = client.post("/mcp", json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": {"name": "p", "cluster": "pg", "namespace": "x", "confirm": "p",
                                               "instances": 2}},
    }).get_json()

    names = [t["name"] for t in listed["result"]["tools"]]
    assert tool not in names and "pooler_list" in names
    assert called["error"]["code"] == -32602 and "Unknown tool" in called["error"]["message"]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("pooler_list", {}),
        ("pooler_create", {"cluster": "pg"}),
        ("pooler_scale", {"name": "pg-pooler-rw", "instances": 2}),
        ("pooler_delete", {"name": "pg-pooler-rw", "confirm": "pg-pooler-rw"}),
    ],
)
def test_namespace_allowlist_refuses_other_namespaces(
    kubeconfig: Path, admin_api, namespace: str, tool: str, arguments: dict[str, Any]
) -> None:
    tool_caller(kubeconfig).ok("cluster_create", name="pg", namespace=namespace, instances=1)
    _make_pooler(admin_api, namespace, "pg-pooler-rw", "pg")

    message = tool_caller(kubeconfig, MCP_NAMESPACES="other").error(tool, namespace=namespace, **arguments)

    assert message == f"Namespace {namespace!r} is not served by this server; allowed: other"
    assert _read_pooler(admin_api, namespace, "pg-pooler-rw")["spec"]["instances"] == 1
