"""A person, not the model, confirms a cluster deletion (MCP_CONFIRM=person), with real parts only: the
official Python SDK client (mcp 2.3.0, protocol 2026-07-28, an elicitation callback standing in for the
person), real gunicorn with two workers (the question and the answer may land on different workers), the
real control plane with the CloudNativePG operator's webhooks.

The SDK's own input-required driver answers the question and repeats the call; the refusals drive the
two calls by hand (`allow_input_required=True`) to send back a changed or late request state.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestParams, ElicitResult, InputRequiredResult

from devenv.controlplane import LocalControlPlane
from devenv.kubelet_sim import wait_for
from tests.support.processes import GunicornServer

KEY = "a-request-state-key-for-this-test-run-only"
MODERN = "2026-07-28"


def _serve(controlplane: LocalControlPlane, tmp: Path, **env: str) -> GunicornServer:
    kubeconfig = controlplane.write_kubeconfig(tmp / f"admin-{uuid.uuid4().hex[:6]}.yaml", "admin")
    return GunicornServer("wsgi:app", KUBECONFIG=str(kubeconfig), LOG_LEVEL="INFO", MCP_CONFIRM="person",
                          MCP_REQUEST_STATE_KEY=KEY, **env)


@pytest.fixture(scope="module")
def server(controlplane: LocalControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    with _serve(controlplane, tmp_path_factory.mktemp("confirm")) as running:
        yield running


@pytest.fixture
def cluster(admin_api: kubernetes.client.ApiClient) -> Iterator[tuple[str, str]]:
    namespace = f"confirm-{uuid.uuid4().hex[:8]}"
    kubernetes.client.CoreV1Api(admin_api).create_namespace({"metadata": {"name": namespace}})
    kubernetes.client.CustomObjectsApi(admin_api).create_namespaced_custom_object(
        "postgresql.cnpg.io", "v1", namespace, "clusters", {
            "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg-main"},
            "spec": {"instances": 2, "storage": {"size": "1Gi"}}})
    yield namespace, "pg-main"
    kubernetes.client.CoreV1Api(admin_api).delete_namespace(namespace)


def _being_deleted(admin_api: kubernetes.client.ApiClient, namespace: str, name: str) -> bool:
    try:
        found = kubernetes.client.CustomObjectsApi(admin_api).get_namespaced_custom_object(
            "postgresql.cnpg.io", "v1", namespace, "clusters", name)
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return bool(found["metadata"].get("deletionTimestamp"))


def _person(answer: str, asked: list[str]) -> Any:
    async def elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        if answer == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action=answer)

    return elicit


def _audit(server: GunicornServer, tool: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("event") == "tool_call" and e.get("tool") == tool]


async def _delete(server: GunicornServer, arguments: dict[str, Any], answer: str, asked: list[str]) -> Any:
    async with Client(server.mcp_url, mode=MODERN, elicitation_callback=_person(answer, asked)) as client:
        # Listing first, as clients do: it teaches the SDK which arguments travel as Mcp-Param-* headers too.
        await client.list_tools()
        return await client.call_tool("cluster_delete", arguments)


def test_the_person_confirms_and_the_cluster_is_deleted(server: GunicornServer, cluster: tuple[str, str],
                                                        admin_api: kubernetes.client.ApiClient) -> None:
    namespace, name = cluster
    asked: list[str] = []

    result = asyncio.run(_delete(server, {"namespace": namespace, "name": name}, "accept", asked))

    assert result.is_error is False, result.content
    assert result.structured_content["deleted"] is True
    assert asked == [f"Your assistant wants to delete cluster {name!r} in namespace {namespace!r} (2 instance(s), "
                     "their volumes and services) (tool cluster_delete). This cannot be undone. Allow it?"]
    wait_for(lambda: _being_deleted(admin_api, namespace, name), "the Cluster to be deleted")
    outcomes = [(e["outcome"], e["confirmed_by"]) for e in _audit(server, "cluster_delete")
                if e["namespace"] == namespace]
    assert outcomes == [("input_required", None), ("ok", "person")]  # no `confirm` argument was ever sent


@pytest.mark.parametrize("answer", ["decline", "cancel"])
def test_a_person_who_says_no_keeps_the_cluster(server: GunicornServer, cluster: tuple[str, str], answer: str,
                                               admin_api: kubernetes.client.ApiClient) -> None:
    namespace, name = cluster
    asked: list[str] = []

    result = asyncio.run(_delete(server, {"namespace": namespace, "name": name}, answer, asked))

    assert result.is_error is True and "nothing was changed" in result.content[0].text
    assert len(asked) == 1
    assert not _being_deleted(admin_api, namespace, name)
    outcomes = [e["outcome"] for e in _audit(server, "cluster_delete") if e["namespace"] == namespace]
    assert outcomes == ["input_required", "declined"]


async def _refused_retry(server: GunicornServer, arguments: dict[str, Any], change: Any, wait: float = 0) -> MCPError:
    async with Client(server.mcp_url, mode=MODERN, elicitation_callback=_person("accept", [])) as client:
        await client.list_tools()
        first = await client.session.call_tool("cluster_delete", arguments, allow_input_required=True)
        assert isinstance(first, InputRequiredResult) and first.request_state
        await asyncio.sleep(wait)
        retried_arguments, state = change(arguments, first.request_state)
        with pytest.raises(MCPError) as refused:
            await client.session.call_tool("cluster_delete", retried_arguments, request_state=state,
                                           input_responses={"confirm": ElicitResult(action="accept",
                                                                                    content={"confirm": True})})
        return refused.value


def _flip(state: str) -> str:
    head, tail = state[:10], state[10:]
    return head + ("B" if tail[0] != "B" else "C") + tail[1:]


@pytest.mark.parametrize(("change", "says"), [
    (lambda args, state: (args, _flip(state)), "Invalid requestState: requestState was not issued by this server"),
    (lambda args, state: ({**args, "name": "pg-other"}, state), "was issued for other arguments of cluster_delete"),
])
def test_a_changed_state_or_a_retargeted_call_is_refused(server: GunicornServer, cluster: tuple[str, str],
                                                         admin_api: kubernetes.client.ApiClient, change: Any,
                                                         says: str) -> None:
    namespace, name = cluster

    refused = asyncio.run(_refused_retry(server, {"namespace": namespace, "name": name}, change))

    assert refused.error.code == -32602 and says in refused.error.message
    assert not _being_deleted(admin_api, namespace, name)


def test_an_answer_after_the_state_expired_is_refused(controlplane: LocalControlPlane, cluster: tuple[str, str],
                                                      admin_api: kubernetes.client.ApiClient, tmp_path: Path) -> None:
    namespace, name = cluster
    with _serve(controlplane, tmp_path, MCP_CONFIRM_TTL_SECONDS="1") as short:
        began = time.monotonic()
        refused = asyncio.run(_refused_retry(short, {"namespace": namespace, "name": name},
                                             lambda args, state: (args, state), wait=2.5))

    assert time.monotonic() - began >= 2.5
    assert "requestState expired: an answer must come within 1 seconds" in refused.error.message
    assert not _being_deleted(admin_api, namespace, name)
