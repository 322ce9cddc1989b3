"""Cluster lifecycle tools against the real local API server with the real CloudNativePG CRDs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from app import create_app
from app.settings import Settings
from app.tools.catalog import all_tools
from devenv.kubelet_sim import simulate_cluster_ready, wait_for_reconciled
from devenv.process import wait_until
from tests.support.mcp_calls import ToolCaller, tool_caller

GROUP, VERSION = "postgresql.cnpg.io", "v1"


def _custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


def _read_cluster(api: kubernetes.client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return _custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", name)


def _cluster_names(api: kubernetes.client.ApiClient, namespace: str) -> list[str]:
    items = _custom(api).list_namespaced_custom_object(GROUP, VERSION, namespace, "clusters")["items"]
    return sorted(item["metadata"]["name"] for item in items)


def _new_namespace(api: kubernetes.client.ApiClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubernetes.client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


# --- create ----------------------------------------------------------------


def test_create_makes_the_cluster_the_arguments_describe(tools: ToolCaller, admin_api, namespace: str) -> None:
    out = tools.ok(
        "cluster_create", name="pg-main", namespace=namespace, instances=2, postgres_version="16",
        storage_size="5Gi", storage_class="fast", wal_storage_size="1Gi", database="shop", owner="shopper",
        parameters={"max_connections": "200"}, resources={"requests": {"cpu": "500m", "memory": "1Gi"}},
    )

    assert out["created"] is True and out["dry_run"] is False
    assert out["cluster"]["name"] == "pg-main" and out["cluster"]["instances"] == 2
    spec = _read_cluster(admin_api, namespace, "pg-main")["spec"]
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:16"
    assert spec["storage"] == {"size": "5Gi", "storageClass": "fast", "resizeInUseVolumes": True}
    assert spec["walStorage"]["size"] == "1Gi"
    assert spec["bootstrap"]["initdb"]["database"] == "shop" and spec["bootstrap"]["initdb"]["owner"] == "shopper"
    assert spec["postgresql"]["parameters"]["max_connections"] == "200"
    assert spec["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert spec["enableSuperuserAccess"] is False


def test_create_dry_run_shows_the_accepted_spec_and_creates_nothing(tools: ToolCaller, admin_api, namespace: str) -> None:
    out = tools.ok("cluster_create", name="pg-dry", namespace=namespace, dry_run=True)

    assert out["created"] is False and out["dry_run"] is True
    # CRD defaults applied by the API server show the request went all the way through validation.
    assert out["spec"]["instances"] == 3 and out["spec"]["logLevel"] == "info"
    assert _cluster_names(admin_api, namespace) == []


def test_create_twice_says_it_already_exists(tools: ToolCaller, namespace: str) -> None:
    tools.ok("cluster_create", name="pg-dup", namespace=namespace)

    message = tools.error("cluster_create", name="pg-dup", namespace=namespace)
    assert message.startswith("Already exists: cannot create cluster 'pg-dup'")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"name": "Bad_Name"}, "name: 'Bad_Name' does not match"),
        ({"instances": 0}, "instances: 0 is less than the minimum of 1"),
        ({"instances": 11}, "instances must be at most 10"),
        ({"postgres_version": "16", "image": "ghcr.io/cloudnative-pg/postgresql:16.4"}, "either postgres_version or image"),
        ({"parameters": {"port": "6543"}}, "manages these parameters itself and rejects them: port"),
        ({"storage_size": "lots"}, "storage_size: 'lots' does not match"),
        ({"colour": "blue"}, "('colour' was unexpected)"),
    ],
)
def test_create_refuses_bad_input_before_calling_the_api(
    tools: ToolCaller, admin_api, namespace: str, arguments: dict[str, Any], expected: str
) -> None:
    message = tools.error("cluster_create", **{"name": "pg-x", "namespace": namespace, **arguments})

    assert expected in message
    assert _cluster_names(admin_api, namespace) == []


def test_create_refuses_a_bad_quantity_naming_its_field_where_the_operator_would_not(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    message = tools.error(
        "cluster_create", name="pg-bad-cpu", namespace=namespace, resources={"limits": {"cpu": "a lot"}}
    )
    # What the real operator says to the same spec: its defaulting webhook runs before the CRD
    # schema, and its refusal names no field, so the tool checks quantities itself first.
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "pg-bad-cpu"},
            "spec": {"instances": 1, "storage": {"size": "1Gi"}, "resources": {"limits": {"cpu": "a lot"}}}}
    with pytest.raises(ApiException) as operator_says:
        _custom(admin_api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", body, dry_run="All")

    assert "resources/limits/cpu: 'a lot' does not match" in message
    refusal = json.loads(operator_says.value.body)["message"]
    assert refusal.startswith('admission webhook "mcluster.cnpg.io" denied the request: quantities must match')
    assert _cluster_names(admin_api, namespace) == []


@pytest.mark.parametrize(("arguments", "reason"), [
    # CRD schema accepts these; CloudNativePG's validating webhook refuses them.
    ({"instances": 2, "parameters": {"wal_level": "minimal"}},
     "spec.postgresql.parameters.wal_level: Invalid value: \"minimal\": `wal_level` should be set at `logical` or "
     "`replica` when `archive_mode` is `on`, '.instances' field is greater than 1, or this is a replica cluster"),
    ({"image": "ghcr.io/cloudnative-pg/postgresql:12.20"},
     "spec.imageName: Invalid value: \"ghcr.io/cloudnative-pg/postgresql:12.20\": Unsupported PostgreSQL version. "
     "Versions 13 or newer are supported"),
])
def test_create_returns_the_operators_refusal_quoting_its_reason(
    tools: ToolCaller, admin_api, namespace: str, arguments: dict[str, Any], reason: str
) -> None:
    for dry_run in (True, False):  # the dry run predicts exactly what the real call is told
        message = tools.error("cluster_create", name="pg-refused", namespace=namespace, dry_run=dry_run, **arguments)

        assert message.startswith(f"Invalid request to create cluster 'pg-refused' in namespace {namespace!r}: the "
                                  f"CloudNativePG operator (vcluster.cnpg.io) refused it: {reason}")
    assert _cluster_names(admin_api, namespace) == []


def test_create_in_a_missing_namespace_says_so(tools: ToolCaller) -> None:
    assert tools.error("cluster_create", name="pg", namespace="no-such-ns") == "Namespace 'no-such-ns' does not exist"


# --- list and get ----------------------------------------------------------


def test_list_shows_each_cluster_with_its_state(tools: ToolCaller, admin_api, namespace: str) -> None:
    tools.ok("cluster_create", name="pg-b", namespace=namespace, instances=1)
    tools.ok("cluster_create", name="pg-a", namespace=namespace, instances=3, storage_size="2Gi")
    simulate_cluster_ready(admin_api, namespace, "pg-a")
    wait_for_reconciled(admin_api, namespace, "pg-b")  # the real operator has started bootstrapping it

    out = tools.ok("cluster_list", namespace=namespace)

    assert out["scope"] == f"namespace {namespace}" and out["count"] == 2
    first, second = out["clusters"]
    assert (first["name"], first["ready_instances"], first["instances"]) == ("pg-a", 3, 3)
    assert first["phase"] == "Cluster in healthy state" and first["primary"] == "pg-a-1"
    assert first["storage"] == "2Gi" and first["age"] is not None
    assert (second["name"], second["phase"]) == ("pg-b", "Setting up primary")
    assert (second["ready_instances"], second["primary"]) == (0, None)


def test_list_without_namespace_searches_all_and_filters_by_label(tools: ToolCaller, admin_api, namespace: str) -> None:
    other = _new_namespace(admin_api)
    tools.ok("cluster_create", name="pg-here", namespace=namespace)
    tools.ok("cluster_create", name="pg-there", namespace=other)
    _custom(admin_api).patch_namespaced_custom_object(
        GROUP, VERSION, other, "clusters", "pg-there", {"metadata": {"labels": {"team": "payments"}}}
    )

    everywhere = tools.ok("cluster_list")
    labelled = tools.ok("cluster_list", label_selector="team=payments")

    assert everywhere["scope"] == "all namespaces"
    assert {("pg-here", namespace), ("pg-there", other)} <= {(c["name"], c["namespace"]) for c in everywhere["clusters"]}
    assert [(c["name"], c["namespace"]) for c in labelled["clusters"]] == [("pg-there", other)]


def test_namespace_allowlist_limits_lists_and_refuses_other_namespaces(kubeconfig: Path, admin_api, namespace: str) -> None:
    other = _new_namespace(admin_api)
    tool_caller(kubeconfig).ok("cluster_create", name="pg-in", namespace=namespace)
    tool_caller(kubeconfig).ok("cluster_create", name="pg-out", namespace=other)
    limited = tool_caller(kubeconfig, MCP_NAMESPACES=namespace)

    listed = limited.ok("cluster_list")
    refused = limited.error("cluster_get", name="pg-out", namespace=other)

    assert listed["scope"] == f"namespaces {namespace}"
    assert [c["name"] for c in listed["clusters"]] == ["pg-in"]
    assert refused == f"Namespace {other!r} is not served by this server; allowed: {namespace}"


def test_list_of_a_missing_namespace_is_a_clear_error(tools: ToolCaller) -> None:
    assert tools.error("cluster_list", namespace="nowhere") == "Namespace 'nowhere' does not exist"


def test_get_reports_status_instances_parameters_and_events(tools: ToolCaller, admin_api, namespace: str) -> None:
    tools.ok("cluster_create", name="pg-main", namespace=namespace, instances=3, parameters={"work_mem": "8MB"})
    simulate_cluster_ready(admin_api, namespace, "pg-main", ready=2)
    kubernetes.client.CoreV1Api(admin_api).create_namespaced_event(namespace, {
        "metadata": {"name": f"pg-main.{uuid.uuid4().hex[:6]}"},
        "involvedObject": {"kind": "Cluster", "name": "pg-main", "namespace": namespace,
                           "apiVersion": f"{GROUP}/{VERSION}"},
        "reason": "Newest", "message": "an event from the future", "type": "Warning", "count": 1,
        "lastTimestamp": "2099-01-01T10:00:00Z",
    })

    out = tools.ok("cluster_get", name="pg-main", namespace=namespace)

    assert out["current_primary"] == "pg-main-1" and out["target_primary"] == "pg-main-1"
    assert [(p["name"], p["role"]) for p in out["pods"]] == [
        ("pg-main-1", "primary"), ("pg-main-2", "replica"), ("pg-main-3", "replica")
    ]
    assert sum(p["ready"] for p in out["pods"]) == 2 and out["ready_instances"] == 2
    # The user's parameter, next to those CloudNativePG's defaulting webhook always sets.
    assert out["postgresql_parameters"]["work_mem"] == "8MB" and out["postgresql_parameters"]["wal_level"] == "logical"
    assert out["backup"]["configured"] is False
    assert any(c["type"] == "Ready" for c in out["conditions"])
    reasons = [e["reason"] for e in out["events"]]
    # Newest first; the rest are the real operator's own events about what it created.
    assert reasons[0] == "Newest"
    assert {"CreatingPodDisruptionBudget", "CreatingServiceAccount", "CreatingInstance"} <= set(reasons)


def test_get_of_an_unknown_cluster_names_the_clusters_that_exist(tools: ToolCaller, namespace: str) -> None:
    tools.ok("cluster_create", name="pg-main", namespace=namespace)
    tools.ok("cluster_create", name="pg-test", namespace=namespace)

    message = tools.error("cluster_get", name="pg-mian", namespace=namespace)

    assert message == f"Cluster 'pg-mian' not found in namespace {namespace!r}; clusters there: pg-main, pg-test"


# --- scale, parameters, storage --------------------------------------------


def test_scale_patches_only_the_instance_count(tools: ToolCaller, admin_api, namespace: str) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=3, parameters={"work_mem": "4MB"})

    preview = tools.ok("cluster_scale", name="pg", namespace=namespace, instances=5, dry_run=True)
    assert _read_cluster(admin_api, namespace, "pg")["spec"]["instances"] == 3
    done = tools.ok("cluster_scale", name="pg", namespace=namespace, instances=5)

    assert preview == {"name": "pg", "namespace": namespace, "dry_run": True, "previous_instances": 3, "instances": 5}
    assert done["dry_run"] is False
    spec = _read_cluster(admin_api, namespace, "pg")["spec"]
    assert spec["instances"] == 5 and spec["postgresql"]["parameters"]["work_mem"] == "4MB"


def test_scale_below_the_synchronous_replicas_returns_the_operators_refusal(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=3)
    _custom(admin_api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg", {
        "spec": {"minSyncReplicas": 1, "maxSyncReplicas": 2}})

    preview = tools.error("cluster_scale", name="pg", namespace=namespace, instances=2, dry_run=True)
    message = tools.error("cluster_scale", name="pg", namespace=namespace, instances=2)

    assert preview == message == (
        f"Invalid request to update cluster 'pg' in namespace {namespace!r}: the CloudNativePG operator "
        "(vcluster.cnpg.io) refused it: spec.maxSyncReplicas: Invalid value: 2: maxSyncReplicas must be lower than "
        "the number of instances")
    assert _read_cluster(admin_api, namespace, "pg")["spec"]["instances"] == 3


def test_scale_beyond_the_limit_or_of_a_missing_cluster_is_refused(tools: ToolCaller, namespace: str) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace)

    assert "at most 10" in tools.error("cluster_scale", name="pg", namespace=namespace, instances=12)
    assert "not found" in tools.error("cluster_scale", name="nope", namespace=namespace, instances=2)


def test_set_parameters_changes_adds_and_removes_only_the_given_keys(tools: ToolCaller, admin_api, namespace: str) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, parameters={"work_mem": "4MB", "max_connections": "100"})

    out = tools.ok("cluster_set_parameters", name="pg", namespace=namespace,
                   parameters={"work_mem": "16MB", "shared_buffers": "512MB", "max_connections": None})

    assert out["changed"] == ["shared_buffers", "work_mem"] and out["removed"] == ["max_connections"]
    assert "restored_defaults" not in out
    parameters = _read_cluster(admin_api, namespace, "pg")["spec"]["postgresql"]["parameters"]
    assert (parameters["work_mem"], parameters["shared_buffers"]) == ("16MB", "512MB")
    assert "max_connections" not in parameters and out["parameters"] == parameters


def test_set_parameters_says_when_the_operator_restores_a_default_it_always_sets(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace)

    out = tools.ok("cluster_set_parameters", name="pg", namespace=namespace,
                   parameters={"wal_keep_size": "1GB", "archive_timeout": None})

    # CloudNativePG's defaulting webhook puts archive_timeout back (5min): removing it cannot stick.
    assert out["removed"] == [] and out["restored_defaults"] == {"archive_timeout": "5min"}
    assert "restored its default value" in out["note"]
    assert _read_cluster(admin_api, namespace, "pg")["spec"]["postgresql"]["parameters"]["archive_timeout"] == "5min"


def test_set_parameters_returns_the_operators_refusal_and_its_dry_run_predicts_it(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, instances=2)

    preview = tools.error("cluster_set_parameters", name="pg", namespace=namespace,
                          parameters={"wal_level": "minimal"}, dry_run=True)
    refused = tools.error("cluster_set_parameters", name="pg", namespace=namespace,
                          parameters={"wal_log_hints": "off"})

    assert preview.startswith(f"Invalid request to update cluster 'pg' in namespace {namespace!r}: the CloudNativePG "
                              "operator (vcluster.cnpg.io) refused it: spec.postgresql.parameters.wal_level: Invalid "
                              "value: \"minimal\": `wal_level` should be set at `logical` or `replica`")
    assert refused.endswith("spec.postgresql.parameters.wal_log_hints: Invalid value: \"off\": `wal_log_hints` must "
                            "be set to `on` when `instances` > 1")
    parameters = _read_cluster(admin_api, namespace, "pg")["spec"]["postgresql"]["parameters"]
    assert (parameters["wal_level"], parameters["wal_log_hints"]) == ("logical", "on")


def test_set_parameters_refuses_fixed_or_absent_ones_and_dry_run_changes_nothing(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, parameters={"work_mem": "4MB"})

    assert "synchronous_standby_names" in tools.error(
        "cluster_set_parameters", name="pg", namespace=namespace, parameters={"synchronous_standby_names": "x"})
    assert "not set: nope" in tools.error(
        "cluster_set_parameters", name="pg", namespace=namespace, parameters={"nope": None})
    tools.ok("cluster_set_parameters", name="pg", namespace=namespace, parameters={"work_mem": "1GB"}, dry_run=True)

    assert _read_cluster(admin_api, namespace, "pg")["spec"]["postgresql"]["parameters"]["work_mem"] == "4MB"


def test_resize_grows_and_refuses_to_shrink_as_the_operator_does(tools: ToolCaller, admin_api, namespace: str) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace, storage_size="10Gi")

    grown = tools.ok("cluster_resize_storage", name="pg", namespace=namespace, size="20Gi")
    refused = tools.error("cluster_resize_storage", name="pg", namespace=namespace, size="15Gi")
    no_wal = tools.error("cluster_resize_storage", name="pg", namespace=namespace, size="5Gi", volume="wal")
    # The rule the tool applies first is the operator's: its webhook refuses the same shrink.
    with pytest.raises(ApiException) as operator_says:
        _custom(admin_api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg",
                                                          {"spec": {"storage": {"size": "15Gi"}}}, dry_run="All")

    assert (grown["previous_size"], grown["size"]) == ("10Gi", "20Gi")
    assert "15Gi is smaller than the current 20Gi: CloudNativePG only grows volumes" in refused
    assert "can't shrink existing storage from 20Gi to 15Gi" in json.loads(operator_says.value.body)["message"]
    assert "no separate WAL volume" in no_wal
    assert _read_cluster(admin_api, namespace, "pg")["spec"]["storage"]["size"] == "20Gi"


# --- delete ----------------------------------------------------------------


def test_delete_needs_the_name_repeated(tools: ToolCaller, admin_api, namespace: str) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace)

    message = tools.error("cluster_delete", name="pg", namespace=namespace, confirm="pg2")

    # What will go is named, so a person reading the refusal (or the question, MCP_CONFIRM=person) knows.
    assert message.startswith(f"To delete cluster 'pg' in namespace {namespace!r} (")
    assert "instance(s), their volumes and services)" in message
    assert message.endswith(", repeat 'pg' exactly in confirm")
    assert _cluster_names(admin_api, namespace) == ["pg"]


def test_delete_removes_the_cluster_and_only_the_secrets_this_server_created(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    tools.ok("cluster_create", name="pg", namespace=namespace)
    simulate_cluster_ready(admin_api, namespace, "pg")  # the real operator creates its Secrets, Services, ...
    core = kubernetes.client.CoreV1Api(admin_api)
    operator_owned = _owned_by_cluster(admin_api, namespace, "pg")
    core.create_namespaced_secret(namespace, {"metadata": {"name": "pg-mcp-role-alice"}, "stringData": {"p": "x"}})
    _custom(admin_api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg", {
        "metadata": {"annotations": {"cnpg-mcp.io/created-secrets": json.dumps(["pg-mcp-role-alice"])}}
    })

    preview = tools.ok("cluster_delete", name="pg", namespace=namespace, confirm="pg", dry_run=True)
    still_there = _cluster_names(admin_api, namespace)
    done = tools.ok("cluster_delete", name="pg", namespace=namespace, confirm="pg")

    assert preview["deleted"] is False and preview["removes"]["secrets_created_by_this_server"] == ["pg-mcp-role-alice"]
    assert still_there == ["pg"]
    assert done["deleted"] is True
    assert _cluster_names(admin_api, namespace) == []
    assert "pg-mcp-role-alice" not in {s.metadata.name for s in core.list_namespaced_secret(namespace).items}
    # The tool deleted none of the operator's objects itself: they all name the Cluster as their owner,
    # and Kubernetes' garbage collector removes them once it is gone.
    assert {"Secret/pg-app", "Secret/pg-ca", "Secret/pg-server", "Secret/pg-replication", "Service/pg-rw",
            "PersistentVolumeClaim/pg-1", "Job/pg-1-initdb", "Pod/pg-1", "PodDisruptionBudget/pg"} <= operator_owned
    assert done["removes"]["secrets_created_by_this_server"] == ["pg-mcp-role-alice"]
    wait_until(lambda: not _owned_by_cluster(admin_api, namespace, "pg"), 120, "garbage collection of pg's objects")


def _owned_by_cluster(api: kubernetes.client.ApiClient, namespace: str, cluster: str) -> set[str]:
    """Kind/name of every object in the namespace whose owner is the Cluster (or one of its Jobs)."""
    core, batch = kubernetes.client.CoreV1Api(api), kubernetes.client.BatchV1Api(api)
    policy = kubernetes.client.PolicyV1Api(api)
    found = set()
    for kind, items in (
        ("Secret", core.list_namespaced_secret(namespace).items),
        ("Service", core.list_namespaced_service(namespace).items),
        ("PersistentVolumeClaim", core.list_namespaced_persistent_volume_claim(namespace).items),
        ("Pod", core.list_namespaced_pod(namespace).items),
        ("Job", batch.list_namespaced_job(namespace).items),
        ("PodDisruptionBudget", policy.list_namespaced_pod_disruption_budget(namespace).items),
        ("ServiceAccount", core.list_namespaced_service_account(namespace).items),
    ):
        for item in items:
            owners = item.metadata.owner_references or []
            if any(o.kind in ("Cluster", "Job") and o.name.startswith(cluster) for o in owners):
                found.add(f"{kind}/{item.metadata.name}")
    return found


def test_delete_of_a_missing_cluster_is_not_found(tools: ToolCaller, namespace: str) -> None:
    assert "not found" in tools.error("cluster_delete", name="ghost", namespace=namespace, confirm="ghost")


# --- read-only mode --------------------------------------------------------


def test_read_only_mode_offers_only_the_read_only_tools(kubeconfig: Path) -> None:
    client = create_app(Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_READ_ONLY": "true"})).test_client()
    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()

    names = [t["name"] for t in listed["result"]["tools"]]
    assert names == [spec.name for spec in all_tools() if spec.hints.read_only]
    assert {"cluster_list", "cluster_get"} <= set(names) and "cluster_delete" not in names
    assert "Unknown tool" in client.post("/mcp", json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "cluster_delete", "arguments": {"name": "pg", "namespace": "x", "confirm": "pg"}},
    }).get_json()["error"]["message"]
