"""The Kubernetes layer's error classes against the real API server: unavailable, forbidden
(impersonated), conflict, and recovery after the API server comes back."""

from __future__ import annotations

import time
from pathlib import Path

import kubernetes
import pytest

from app import create_app
from app.identity import Principal
from app.kube import Conflict, Forbidden, Identity, resources
from app.kube import cnpg
from app.settings import Settings
from app.tools.catalog import all_tools
from app.tools.context import ToolContext
from app.tools.registry import Registry
from devenv.controlplane import LocalControlPlane
from tests.support.mcp_calls import ToolCaller
from tests.support.tools import kube_session

TIMEOUT = 3.0


@pytest.fixture
def settings(kubeconfig: Path) -> Settings:
    return Settings.from_env({"KUBECONFIG": str(kubeconfig), "KUBE_TIMEOUT_SECONDS": str(TIMEOUT)})


def _create_cluster(custom: kubernetes.client.CustomObjectsApi, namespace: str, instances: int) -> None:
    custom.create_namespaced_custom_object(cnpg.GROUP, cnpg.VERSION, namespace, cnpg.CLUSTERS, {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"},
        "spec": {"instances": instances, "storage": {"size": "1Gi"}},
    })


def test_a_stopped_api_server_is_a_tool_error_within_the_timeout_and_recovery_is_automatic(
    controlplane: LocalControlPlane, settings: Settings, namespace: str
) -> None:
    tools = ToolCaller(create_app(settings).test_client())
    tools.ok("cluster_create", name="pg", namespace=namespace)

    controlplane.stop_apiserver()
    try:
        started = time.monotonic()
        message = tools.error("cluster_get", name="pg", namespace=namespace)
        elapsed = time.monotonic() - started
    finally:
        controlplane.start_apiserver()

    assert message.startswith("Kubernetes API unavailable")
    assert elapsed < TIMEOUT * 3  # bounded: refused connections fail fast, never hang the worker
    assert tools.ok("cluster_get", name="pg", namespace=namespace)["name"] == "pg"


def test_calls_can_run_as_an_impersonated_identity_and_forbidden_names_caller_verb_and_resource(
    settings: Settings, namespace: str
) -> None:
    alice = kube_session(settings, Identity(user="alice"))

    with pytest.raises(Forbidden) as raised:
        alice.list(cnpg.CLUSTER, namespace)
    result = Registry(all_tools()).call(
        "cluster_list", {"namespace": namespace},
        ToolContext(request_id="r1", principal=Principal(subject="alice"), settings=settings, kube=alice),
    )

    message = str(raised.value)
    assert message.startswith(f"Forbidden: not allowed to list clusters in namespace {namespace!r}")
    assert 'User "alice" cannot list resource "clusters"' in message
    assert result["isError"] is True and 'User "alice"' in result["content"][0]["text"]


def test_a_stale_resource_version_is_a_conflict(settings: Settings, admin_api, namespace: str) -> None:
    session = kube_session(settings)
    custom = kubernetes.client.CustomObjectsApi(admin_api)
    _create_cluster(custom, namespace, instances=1)
    stale = session.get(cnpg.CLUSTER, namespace, "pg")["metadata"]["resourceVersion"]
    session.patch(cnpg.CLUSTER, namespace, "pg", {"metadata": {"labels": {"x": "1"}}}, dry_run=False)

    with pytest.raises(Conflict) as raised:
        session.patch(cnpg.CLUSTER, namespace, "pg",
                      {"metadata": {"resourceVersion": stale}, "spec": {"instances": 2}}, dry_run=False)

    assert str(raised.value).startswith("Conflict while trying to update cluster 'pg'")
    assert session.get(cnpg.CLUSTER, namespace, "pg")["spec"]["instances"] == 1


def test_status_patches_carry_the_resource_version_and_are_recomputed_after_a_conflict(
    settings: Settings, admin_api, namespace: str
) -> None:
    session = kube_session(settings)
    custom = kubernetes.client.CustomObjectsApi(admin_api)
    _create_cluster(custom, namespace, instances=2)
    seen: list[str] = []

    def promote(cluster: dict) -> dict:
        seen.append(cluster["metadata"]["resourceVersion"])
        if len(seen) == 1:
            # Another writer (the operator, say) changes the object between our read and our patch.
            custom.patch_namespaced_custom_object_status(cnpg.GROUP, cnpg.VERSION, namespace, cnpg.CLUSTERS, "pg",
                                                         {"status": {"phase": "Cluster in healthy state"}})
        return {"targetPrimary": "pg-2", "phase": "Switchover in progress"}

    patched = resources.patch_cluster_status(session, namespace, "pg", promote)

    assert len(seen) == 2 and seen[0] != seen[1]  # the first attempt conflicted, the second used a fresh read
    assert patched["status"]["targetPrimary"] == "pg-2"
    assert patched["status"]["phase"] == "Switchover in progress"


def test_status_patch_gives_up_with_a_clear_conflict_when_the_object_keeps_changing(
    settings: Settings, admin_api, namespace: str
) -> None:
    session = kube_session(settings)
    custom = kubernetes.client.CustomObjectsApi(admin_api)
    _create_cluster(custom, namespace, instances=1)

    def always_raced(cluster: dict) -> dict:
        custom.patch_namespaced_custom_object(cnpg.GROUP, cnpg.VERSION, namespace, cnpg.CLUSTERS, "pg",
                                              {"metadata": {"labels": {"bump": cluster["metadata"]["resourceVersion"]}}})
        return {"targetPrimary": "pg-1"}

    with pytest.raises(Conflict):
        resources.patch_cluster_status(session, namespace, "pg", always_raced, attempts=2)
    assert "targetPrimary" not in (custom.get_namespaced_custom_object(
        cnpg.GROUP, cnpg.VERSION, namespace, cnpg.CLUSTERS, "pg").get("status") or {})
