"""Day-2 operation tools (switchover, restart, reload, hibernation, fencing, maintenance) against the real
local API server with the real CloudNativePG CRDs. Every assertion reads back what was written, as admin."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from app import create_app
from app.settings import Settings
from app.tools.operations import OPERATIONS_TOOLS
from devenv.kubelet_sim import set_cluster_status, simulate_cluster_ready
from tests.support.mcp_calls import ToolCaller, tool_caller

GROUP, VERSION = "postgresql.cnpg.io", "v1"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RFC3339_MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FENCED = "cnpg.io/fencedInstances"

# Each tool with arguments that would succeed on a ready 3-instance cluster "pg" (primary pg-1).
CALLS: dict[str, dict[str, Any]] = {
    "cluster_switchover": {"instance": "2", "confirm": "pg-2"},
    "cluster_restart": {"confirm": "pg"},
    "cluster_reload": {},
    "cluster_hibernate": {"confirm": "pg"},
    "cluster_resume": {},
    "cluster_fence": {"instance": "2", "confirm": "pg-2"},
    "cluster_unfence": {"instance": "2"},
    "cluster_maintenance": {"in_progress": True, "confirm": "pg"},
}


def _custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


def _read(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg") -> dict[str, Any]:
    return _custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", name)


def _annotations(api: kubernetes.client.ApiClient, namespace: str) -> dict[str, str]:
    return _read(api, namespace)["metadata"].get("annotations") or {}


def _annotate(api: kubernetes.client.ApiClient, namespace: str, **annotations: str | None) -> None:
    _custom(api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg",
                                                {"metadata": {"annotations": annotations}})


def _ready_condition(cluster: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in cluster["status"]["conditions"] if c["type"] == "Ready")


def _pod_names(api: kubernetes.client.ApiClient, namespace: str) -> list[str]:
    """The instance Pods (the completed bootstrap Job's Pod is left out)."""
    pods = kubernetes.client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="cnpg.io/podRole=instance")
    return sorted(p.metadata.name for p in pods.items)


def _recent(timestamp: str) -> bool:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return abs((datetime.now(timezone.utc) - moment).total_seconds()) < 60


@pytest.fixture
def cluster(admin_api: kubernetes.client.ApiClient, namespace: str) -> dict[str, Any]:
    """Cluster "pg": 3 instances, all Ready, primary pg-1 (as the operator would report it)."""
    return _make_cluster(admin_api, namespace)


def _make_cluster(api: kubernetes.client.ApiClient, namespace: str, **simulate: Any) -> dict[str, Any]:
    _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "pg"},
        "spec": {"instances": 3, "storage": {"size": "1Gi"}},
    })
    return simulate_cluster_ready(api, namespace, "pg", **simulate)


# --- cluster_switchover -----------------------------------------------------


def test_switchover_sets_the_target_primary_phase_and_ready_condition(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    # A second condition must survive: merge patches replace lists whole.
    archiving = {"type": "ContinuousArchiving", "status": "True", "reason": "ContinuousArchivingSuccess",
                 "message": "Continuous archiving is working", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    set_cluster_status(admin_api, namespace, "pg", conditions=[*cluster["status"]["conditions"], archiving])

    out = tools.ok("cluster_switchover", name="pg", namespace=namespace, instance="2", confirm="pg-2")

    assert out == {
        "name": "pg", "namespace": namespace, "dry_run": False, "changed": True, "previous_primary": "pg-1",
        "target_primary": "pg-2", "phase": "Switchover in progress", "phase_reason": "Switching over to pg-2",
        "overridden": [], "note": out["note"],
    }
    status = _read(admin_api, namespace)["status"]
    assert status["targetPrimary"] == "pg-2" and status["currentPrimary"] == "pg-1"
    assert RFC3339_MICRO.match(status["targetPrimaryTimestamp"]) and _recent(status["targetPrimaryTimestamp"])
    assert (status["phase"], status["phaseReason"]) == ("Switchover in progress", "Switching over to pg-2")
    ready = _ready_condition({"status": status})
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", "ClusterIsNotReady", "Cluster Is Not Ready")
    assert _recent(ready["lastTransitionTime"])
    assert archiving in status["conditions"] and len(status["conditions"]) == 2


def test_switchover_dry_run_shows_the_phase_and_changes_nothing(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    out = tools.ok("cluster_switchover", name="pg", namespace=namespace, instance="pg-3", confirm="pg-3", dry_run=True)

    assert out["dry_run"] is True and out["changed"] is True and out["phase"] == "Switchover in progress"
    after = _read(admin_api, namespace)
    assert after["metadata"]["resourceVersion"] == cluster["metadata"]["resourceVersion"]
    assert after["status"]["targetPrimary"] == "pg-1"


def test_switchover_to_the_current_target_is_a_no_op(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, primary_index=2)
    before = _read(admin_api, namespace)["metadata"]["resourceVersion"]

    out = tools.ok("cluster_switchover", name="pg", namespace=namespace, instance="pg-2", confirm="pg-2")

    assert out["changed"] is False and "already the target primary" in out["note"]
    assert out["phase"] == "Cluster in healthy state"
    assert _read(admin_api, namespace)["metadata"]["resourceVersion"] == before


def test_switchover_to_a_replica_that_is_not_ready_is_refused_unless_forced(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, ready=2)  # pg-1 (primary) and pg-2 ready, pg-3 not

    refused = tools.error("cluster_switchover", name="pg", namespace=namespace, instance="3", confirm="pg-3")
    untouched = _read(admin_api, namespace)["status"]["targetPrimary"]
    forced = tools.ok("cluster_switchover", name="pg", namespace=namespace, instance="3", confirm="pg-3", force=True)

    assert refused == ("Refusing to switch over to pg-3: the Pod pg-3 is not Ready. Pick a ready replica "
                       "(see cluster_get), or set force=true to promote it anyway.")
    assert untouched == "pg-1"
    assert forced["changed"] is True and forced["overridden"] == ["the Pod pg-3 is not Ready"]
    assert _read(admin_api, namespace)["status"]["targetPrimary"] == "pg-3"


def test_switchover_to_the_current_primary_or_an_unlisted_instance_is_refused(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    # A switchover to pg-2 is under way, and pg-3 is no longer reported by the operator.
    set_cluster_status(admin_api, namespace, "pg", targetPrimary="pg-2", instanceNames=["pg-1", "pg-2"])

    to_primary = tools.error("cluster_switchover", name="pg", namespace=namespace, instance="1", confirm="pg-1")
    unlisted = tools.error("cluster_switchover", name="pg", namespace=namespace, instance="3", confirm="pg-3")

    assert "pg-1 is the current primary (a switchover to pg-2 is under way)" in to_primary
    assert "pg-3 is not listed in status.instanceNames" in unlisted
    assert _read(admin_api, namespace)["status"]["targetPrimary"] == "pg-2"


def test_switchover_to_a_fenced_instance_is_refused_even_when_forced(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    _annotate(admin_api, namespace, **{FENCED: '["pg-2"]'})

    message = tools.error("cluster_switchover", name="pg", namespace=namespace, instance="2", confirm="pg-2", force=True)

    assert message == "pg-2 is fenced and cannot be promoted; unfence it first with cluster_unfence"
    assert _read(admin_api, namespace)["status"]["targetPrimary"] == "pg-1"


def test_switchover_to_a_missing_pod_or_a_pod_of_another_cluster_is_refused(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    kubernetes.client.CoreV1Api(admin_api).create_namespaced_pod(namespace, {
        "metadata": {"name": "web-1", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    })

    missing = tools.error("cluster_switchover", name="pg", namespace=namespace, instance="9", confirm="pg-9")
    foreign = tools.error("cluster_switchover", name="pg", namespace=namespace, instance="web-1", confirm="web-1",
                          force=True)

    assert missing == f"Pod 'pg-9' not found in namespace {namespace!r}; instances of cluster 'pg': pg-1, pg-2, pg-3"
    assert foreign.startswith("Pod 'web-1' is not an instance of cluster 'pg'")
    assert _read(admin_api, namespace)["status"]["targetPrimary"] == "pg-1"


def test_switchover_needs_the_target_pod_name_repeated(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    message = tools.error("cluster_switchover", name="pg", namespace=namespace, instance="2", confirm="2")

    assert message == "To switch cluster 'pg' over to 'pg-2', repeat 'pg-2' exactly in confirm"
    assert _read(admin_api, namespace)["status"]["targetPrimary"] == "pg-1"


# --- cluster_restart --------------------------------------------------------


def test_restart_of_the_cluster_sets_the_restarted_at_annotation(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    preview = tools.ok("cluster_restart", name="pg", namespace=namespace, confirm="pg", dry_run=True)
    after_preview = _annotations(admin_api, namespace)
    out = tools.ok("cluster_restart", name="pg", namespace=namespace, confirm="pg")

    assert preview["dry_run"] is True and "kubectl.kubernetes.io/restartedAt" not in after_preview
    assert out["method"] == "rolling_restart" and out["instance"] is None
    stamp = _annotations(admin_api, namespace)["kubectl.kubernetes.io/restartedAt"]
    assert stamp == out["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert RFC3339.match(stamp) and _recent(stamp)
    assert _pod_names(admin_api, namespace) == ["pg-1", "pg-2", "pg-3"]


def test_restart_of_the_primary_asks_the_operator_for_an_in_place_restart(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    preview = tools.ok("cluster_restart", name="pg", namespace=namespace, instance="1", confirm="pg-1", dry_run=True)
    unchanged = _read(admin_api, namespace)["status"]["phase"]
    out = tools.ok("cluster_restart", name="pg", namespace=namespace, instance="pg-1", confirm="pg-1")

    assert preview["phase"] == "Primary instance is being restarted in-place" and unchanged == "Cluster in healthy state"
    assert out["method"] == "in_place_primary_restart" and out["instance"] == "pg-1"
    status = _read(admin_api, namespace)["status"]
    assert (status["phase"], status["phaseReason"]) == ("Primary instance is being restarted in-place",
                                                        "Requested by the user")
    assert _ready_condition({"status": status})["reason"] == "ClusterIsNotReady"
    assert status["targetPrimary"] == "pg-1"
    assert _pod_names(admin_api, namespace) == ["pg-1", "pg-2", "pg-3"]


def test_restart_of_a_replica_deletes_its_pod(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    tools.ok("cluster_restart", name="pg", namespace=namespace, instance="2", confirm="pg-2", dry_run=True)
    after_preview = _pod_names(admin_api, namespace)
    out = tools.ok("cluster_restart", name="pg", namespace=namespace, instance="2", confirm="pg-2")

    assert after_preview == ["pg-1", "pg-2", "pg-3"]
    assert out["method"] == "pod_recreated" and out["instance"] == "pg-2"
    # Never scheduled (no kubelet here), so the API server deletes it at once.
    assert _pod_names(admin_api, namespace) == ["pg-1", "pg-3"]
    assert _read(admin_api, namespace)["status"]["phase"] == "Cluster in healthy state"


def test_restart_refuses_pods_that_are_not_instances_of_the_cluster(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    # The Pod of the operator's own bootstrap Job: labelled with the cluster and its first instance.
    core = kubernetes.client.CoreV1Api(admin_api)
    [initdb] = [p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector="cnpg.io/jobRole=initdb").items]

    job_pod = tools.error("cluster_restart", name="pg", namespace=namespace, instance=initdb, confirm=initdb)
    missing = tools.error("cluster_restart", name="pg", namespace=namespace, instance="7", confirm="pg-7")

    assert initdb.startswith("pg-1-initdb-")
    assert job_pod.startswith(f"Pod {initdb!r} is not an instance of cluster 'pg'")
    assert missing.startswith("Pod 'pg-7' not found")
    assert core.read_namespaced_pod(initdb, namespace).metadata.deletion_timestamp is None


def test_restart_needs_the_cluster_or_instance_name_repeated(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    whole = tools.error("cluster_restart", name="pg", namespace=namespace, confirm="pg-1")
    one = tools.error("cluster_restart", name="pg", namespace=namespace, instance="2", confirm="pg")

    assert whole == "To restart every instance of cluster 'pg', repeat 'pg' exactly in confirm"
    assert one == "To restart instance 'pg-2' of cluster 'pg', repeat 'pg-2' exactly in confirm"
    assert _pod_names(admin_api, namespace) == ["pg-1", "pg-2", "pg-3"]
    assert "kubectl.kubernetes.io/restartedAt" not in _annotations(admin_api, namespace)


# --- cluster_reload ---------------------------------------------------------


def test_reload_sets_the_reloaded_at_annotation_and_dry_run_does_not(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    tools.ok("cluster_reload", name="pg", namespace=namespace, dry_run=True)
    after_preview = _annotations(admin_api, namespace)
    out = tools.ok("cluster_reload", name="pg", namespace=namespace)

    assert "cnpg.io/reloadedAt" not in after_preview
    stamp = _annotations(admin_api, namespace)["cnpg.io/reloadedAt"]
    assert stamp == out["annotations"]["cnpg.io/reloadedAt"]
    assert RFC3339_MICRO.match(stamp) and _recent(stamp)


# --- cluster_hibernate / cluster_resume -------------------------------------


def test_hibernate_then_resume_flip_the_hibernation_annotation(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    preview = tools.ok("cluster_hibernate", name="pg", namespace=namespace, confirm="pg", dry_run=True)
    after_preview = _annotations(admin_api, namespace)
    hibernated = tools.ok("cluster_hibernate", name="pg", namespace=namespace, confirm="pg")
    on = _annotations(admin_api, namespace).get("cnpg.io/hibernation")
    again = tools.error("cluster_hibernate", name="pg", namespace=namespace, confirm="pg")
    resume_preview = tools.ok("cluster_resume", name="pg", namespace=namespace, dry_run=True)
    still_on = _annotations(admin_api, namespace).get("cnpg.io/hibernation")
    resumed = tools.ok("cluster_resume", name="pg", namespace=namespace)

    assert preview["hibernation"] == "on" and "cnpg.io/hibernation" not in after_preview
    assert (hibernated["hibernation"], hibernated["previous"], on) == ("on", None, "on")
    assert again == "Cluster 'pg' is already hibernated; use cluster_resume to bring it back"
    assert resume_preview["dry_run"] is True and still_on == "on"
    assert (resumed["hibernation"], resumed["previous"]) == ("off", "on")
    assert _annotations(admin_api, namespace)["cnpg.io/hibernation"] == "off"


def test_resume_of_a_cluster_that_is_not_hibernated_is_refused(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    never = tools.error("cluster_resume", name="pg", namespace=namespace)
    _annotate(admin_api, namespace, **{"cnpg.io/hibernation": "off"})
    already_off = tools.error("cluster_resume", name="pg", namespace=namespace)

    assert never == already_off == "Cluster 'pg' is not hibernated; nothing to resume"
    assert _annotations(admin_api, namespace)["cnpg.io/hibernation"] == "off"


def test_hibernate_needs_the_cluster_name_repeated(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    message = tools.error("cluster_hibernate", name="pg", namespace=namespace, confirm="PG")

    assert message == "To hibernate cluster 'pg', repeat 'pg' exactly in confirm"
    assert "cnpg.io/hibernation" not in _annotations(admin_api, namespace)


# --- cluster_fence / cluster_unfence ----------------------------------------


def test_fence_keeps_a_sorted_json_list_of_instances(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    preview = tools.ok("cluster_fence", name="pg", namespace=namespace, instance="3", confirm="pg-3", dry_run=True)
    after_preview = _annotations(admin_api, namespace)
    first = tools.ok("cluster_fence", name="pg", namespace=namespace, instance="3", confirm="pg-3")
    second = tools.ok("cluster_fence", name="pg", namespace=namespace, instance="pg-1", confirm="pg-1")
    again = tools.ok("cluster_fence", name="pg", namespace=namespace, instance="1", confirm="pg-1")

    assert preview["fenced_instances"] == ["pg-3"] and FENCED not in after_preview
    assert first["changed"] is True and first["fenced_instances"] == ["pg-3"]
    assert second["fenced_instances"] == ["pg-1", "pg-3"]
    assert again["changed"] is False and again["fenced_instances"] == ["pg-1", "pg-3"]
    assert _annotations(admin_api, namespace)[FENCED] == '["pg-1","pg-3"]'


def test_fence_all_replaces_the_list_with_a_star(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    _annotate(admin_api, namespace, **{FENCED: '["pg-2"]'})

    out = tools.ok("cluster_fence", name="pg", namespace=namespace, instance="*", confirm="*")
    covered = tools.ok("cluster_fence", name="pg", namespace=namespace, instance="3", confirm="pg-3")

    assert out["fenced_instances"] == ["*"] and covered["changed"] is False
    assert json.loads(_annotations(admin_api, namespace)[FENCED]) == ["*"]


def test_fence_refuses_unknown_instances_and_unconfirmed_calls(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    unknown = tools.error("cluster_fence", name="pg", namespace=namespace, instance="pg-4", confirm="pg-4")
    unconfirmed = tools.error("cluster_fence", name="pg", namespace=namespace, instance="*", confirm="pg")

    assert unknown == "'pg-4' is not an instance of cluster 'pg'; instances of cluster 'pg': pg-1, pg-2, pg-3"
    assert unconfirmed == "To fence every instance of cluster 'pg', repeat '*' exactly in confirm"
    assert FENCED not in _annotations(admin_api, namespace)


def test_unfence_removes_one_name_and_the_annotation_with_the_last(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    _annotate(admin_api, namespace, **{FENCED: '["pg-1","pg-3"]'})

    preview = tools.ok("cluster_unfence", name="pg", namespace=namespace, instance="1", dry_run=True)
    after_preview = _annotations(admin_api, namespace)[FENCED]
    one = tools.ok("cluster_unfence", name="pg", namespace=namespace, instance="1")
    left = _annotations(admin_api, namespace)[FENCED]
    not_fenced = tools.ok("cluster_unfence", name="pg", namespace=namespace, instance="2")
    last = tools.ok("cluster_unfence", name="pg", namespace=namespace, instance="pg-3")

    assert preview["fenced_instances"] == ["pg-3"] and after_preview == '["pg-1","pg-3"]'
    assert one["changed"] is True and left == '["pg-3"]'
    assert not_fenced["changed"] is False and not_fenced["fenced_instances"] == ["pg-3"]
    assert last["fenced_instances"] == []
    assert FENCED not in _annotations(admin_api, namespace)


def test_unfence_of_one_instance_under_a_star_is_refused_and_star_unfences_all(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    _annotate(admin_api, namespace, **{FENCED: '["*"]'})

    refused = tools.error("cluster_unfence", name="pg", namespace=namespace, instance="2")
    still = _annotations(admin_api, namespace)[FENCED]
    everything = tools.ok("cluster_unfence", name="pg", namespace=namespace, instance="*")

    assert refused.startswith("Every instance of cluster 'pg' is fenced ('*'): unfencing only pg-2 is not supported")
    assert still == '["*"]'
    assert everything["changed"] is True and everything["fenced_instances"] == []
    assert FENCED not in _annotations(admin_api, namespace)


def test_a_malformed_fencing_annotation_is_reported_not_overwritten(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    _annotate(admin_api, namespace, **{FENCED: "pg-1"})

    message = tools.error("cluster_fence", name="pg", namespace=namespace, instance="2", confirm="pg-2")

    assert "annotation of cluster 'pg' is not a JSON list of instance names" in message
    assert _annotations(admin_api, namespace)[FENCED] == "pg-1"


# --- cluster_maintenance ----------------------------------------------------


def test_maintenance_sets_and_unsets_the_node_maintenance_window(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    preview = tools.ok("cluster_maintenance", name="pg", namespace=namespace, in_progress=True, confirm="pg",
                       dry_run=True)
    after_preview = _read(admin_api, namespace)["spec"].get("nodeMaintenanceWindow")
    started = tools.ok("cluster_maintenance", name="pg", namespace=namespace, in_progress=True, confirm="pg")
    window = _read(admin_api, namespace)["spec"]["nodeMaintenanceWindow"]
    ended = tools.ok("cluster_maintenance", name="pg", namespace=namespace, in_progress=False, reuse_pvc=True)

    assert (preview["in_progress"], preview["reuse_pvc"]) == (True, False) and after_preview is None
    assert (started["previous_in_progress"], started["previous_reuse_pvc"]) == (None, None)
    assert window == {"inProgress": True, "reusePVC": False}
    assert (ended["previous_in_progress"], ended["in_progress"], ended["reuse_pvc"]) == (True, False, True)
    assert _read(admin_api, namespace)["spec"]["nodeMaintenanceWindow"] == {"inProgress": False, "reusePVC": True}


def test_starting_maintenance_needs_the_cluster_name_repeated(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    message = tools.error("cluster_maintenance", name="pg", namespace=namespace, in_progress=True)

    assert message == "To start a node maintenance window for cluster 'pg', repeat 'pg' exactly in confirm"
    assert "nodeMaintenanceWindow" not in _read(admin_api, namespace)["spec"]


# --- every tool: not found, bad input, namespace allowlist, read-only mode ---------


@pytest.mark.parametrize("tool", sorted(CALLS))
def test_a_missing_cluster_is_not_found_and_names_the_clusters_there(
    tools: ToolCaller, namespace: str, cluster: dict[str, Any], tool: str
) -> None:
    arguments = {k: v.replace("pg", "ghost") if k == "confirm" else v for k, v in CALLS[tool].items()}

    message = tools.error(tool, name="ghost", namespace=namespace, **arguments)

    assert message == f"Cluster 'ghost' not found in namespace {namespace!r}; clusters there: pg"


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("cluster_switchover", {"instance": "Pg_2", "confirm": "Pg_2"}, "instance: 'Pg_2' does not match"),
        ("cluster_switchover", {"confirm": "pg-2"}, "'instance' is a required property"),
        ("cluster_switchover", {"instance": 2, "confirm": "pg-2"}, "instance: 2 is not of type 'string'"),
        ("cluster_fence", {"instance": "pg-*", "confirm": "pg-*"}, "instance: 'pg-*' does not match"),
        ("cluster_restart", {"confirm": "pg", "instance": "*"}, "instance: '*' does not match"),
        ("cluster_maintenance", {"confirm": "pg"}, "'in_progress' is a required property"),
        ("cluster_reload", {"force": True}, "('force' was unexpected)"),
        ("cluster_hibernate", {}, "'confirm' is a required property"),
    ],
)
def test_bad_input_is_refused_before_calling_the_api(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any], tool: str, arguments: dict[str, Any],
    expected: str,
) -> None:
    message = tools.error(tool, name="pg", namespace=namespace, **arguments)

    assert message.startswith(f"Invalid arguments for tool {tool!r}") and expected in message
    assert _read(admin_api, namespace)["metadata"]["resourceVersion"] == cluster["metadata"]["resourceVersion"]


@pytest.mark.parametrize("tool", sorted(CALLS))
def test_namespaces_outside_the_allowlist_are_refused(
    kubeconfig: Path, admin_api, namespace: str, cluster: dict[str, Any], tool: str
) -> None:
    limited = tool_caller(kubeconfig, MCP_NAMESPACES="somewhere-else")

    message = limited.error(tool, name="pg", namespace=namespace, **CALLS[tool])

    assert message == f"Namespace {namespace!r} is not served by this server; allowed: somewhere-else"
    assert _read(admin_api, namespace)["metadata"]["resourceVersion"] == cluster["metadata"]["resourceVersion"]


@pytest.mark.parametrize("tool", sorted(CALLS))
def test_read_only_mode_hides_and_refuses_every_operation(kubeconfig: Path, tool: str) -> None:
    client = create_app(Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_READ_ONLY": "true"})).test_client()
    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()
    called = client.post("/mcp", json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": {"name": "pg", "namespace": "x", **CALLS[tool]}},
    }).get_json()

    assert tool not in [t["name"] for t in listed["result"]["tools"]]
    assert called["error"]["code"] == -32602 and "Unknown tool" in called["error"]["message"]


def test_these_tests_cover_every_operation_tool() -> None:
    assert sorted(spec.name for spec in OPERATIONS_TOOLS) == sorted(CALLS)

