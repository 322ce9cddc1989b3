"""Many Kubernetes clusters from one endpoint: two real control planes (each with the CloudNativePG
CRDs and the real operator), one kubeconfig made of one file per cluster (KUBECONFIG=a:b:c, as
Secrets mounted into a pod would be), and a third context, "lab", that is in the kubeconfig but not
allowed by KUBE_CONTEXTS.

"lab" points at a working cluster with admin rights on purpose: only the server's own policy stands
between a caller and it, so a refusal here proves the policy, not an unreachable server.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from app.tools.catalog import all_tools
from devenv.controlplane import LocalControlPlane
from devenv.kustomize import render
from devenv.idp import LocalIdP
from devenv.kubelet_sim import simulate_cluster_ready, wait_for
from tests.integration.conftest import IDP_RESOURCE
from tests.integration.rbac_exercises import EXERCISES
from tests.support.manifests import K8S, apply, delete, load_kustomization
from tests.support.mcp_calls import ToolCaller, tool_caller

EAST, WEST, LAB = "east", "west", "lab"
ALLOWED = f"{EAST},{WEST}"
GROUP, VERSION = "postgresql.cnpg.io", "v1"


@pytest.fixture(scope="module")
def west() -> Iterator[LocalControlPlane]:
    """A second control plane (etcd, kube-apiserver, the CRDs, kube-controller-manager and the
    CloudNativePG operator with its webhooks), for this module only."""
    with LocalControlPlane() as running:
        yield running


@pytest.fixture(scope="module")
def planes(controlplane: LocalControlPlane, west: LocalControlPlane) -> dict[str, LocalControlPlane]:
    return {EAST: controlplane, WEST: west}


def _kubeconfig(planes: dict[str, LocalControlPlane], directory: Path, user: str) -> str:
    """KUBECONFIG listing one file per context: east and west as `user`, lab (east again) as admin."""
    files = [plane.write_kubeconfig(directory / f"{name}.yaml", user=user, context=name)
             for name, plane in planes.items()]
    files.append(planes[EAST].write_kubeconfig(directory / f"{LAB}.yaml", user="admin", context=LAB))
    return ":".join(str(f) for f in files)


@pytest.fixture(scope="module")
def admin_kubeconfig(planes: dict[str, LocalControlPlane], tmp_path_factory: pytest.TempPathFactory) -> str:
    return _kubeconfig(planes, tmp_path_factory.mktemp("contexts-admin"), "admin")


def _namespace(api: kubernetes.client.ApiClient, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kubernetes.client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def _create_cluster(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg") -> None:
    kubernetes.client.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": name},
        "spec": {"instances": 1, "storage": {"size": "1Gi"}}})


def _cluster_names(api: kubernetes.client.ApiClient, namespace: str) -> list[str]:
    found = kubernetes.client.CustomObjectsApi(api).list_namespaced_custom_object(GROUP, VERSION, namespace, "clusters")
    return sorted(c["metadata"]["name"] for c in found["items"])


@pytest.fixture(scope="module")
def scene(planes: dict[str, LocalControlPlane]) -> dict[str, str]:
    """A namespace per context (each exists only in its own cluster) holding a Cluster "pg"."""
    namespaces = {}
    for name, plane in planes.items():
        with plane.api_client() as api:
            namespaces[name] = _namespace(api, f"ctx-{name}")
            _create_cluster(api, namespaces[name])
    return namespaces


def _rpc(client: FlaskClient, method: str, params: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/mcp", json={"jsonrpc": "2.0", "id": 3, "method": method, "params": params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ----- every tool, in each context, as that cluster's ServiceAccount ----------------------


@pytest.fixture
def cluster_wide_rbac_in_both(planes: dict[str, LocalControlPlane]) -> Iterator[None]:
    """The shipped cluster-wide RBAC (k8s/rbac) applied to both clusters."""
    objects = load_kustomization(K8S / "rbac" / "cluster-wide")
    for plane in planes.values():
        with plane.api_client() as api:
            _ensure_namespace(api, "cnpg-mcp")
            apply(api, objects)
    yield
    for plane in planes.values():
        with plane.api_client() as api:
            delete(api, objects)


def test_every_tool_works_in_each_context_as_that_clusters_service_account(
    planes: dict[str, LocalControlPlane], cluster_wide_rbac_in_both: None,
    tmp_path: Path,
) -> None:
    tools = tool_caller(_kubeconfig(planes, tmp_path, "serviceaccount"), KUBE_CONTEXTS=ALLOWED)
    answered_in: dict[str, set[Any]] = {}
    used: dict[str, set[str]] = {}

    for context, plane in planes.items():
        answered_in[context], used[context] = set(), set()

        def ok(tool: str, _context: str = context, **arguments: Any) -> dict[str, Any]:
            used[_context].add(tool)
            result = tools.ok(tool, context=_context, **arguments)
            answered_in[_context].add(result["context"])
            return result

        with plane.api_client() as admin:
            # Exists only in this context's cluster: a call sent to the other cluster would fail.
            namespace = _namespace(admin, f"rbac-{context}")
            for exercise in EXERCISES:
                exercise(ok, admin, namespace)

    every_tool = {spec.name for spec in all_tools()}
    assert used == {EAST: every_tool, WEST: every_tool}
    assert answered_in == {EAST: {EAST}, WEST: {WEST}}


def test_an_impersonated_caller_is_the_same_person_in_each_context_and_each_cluster_decides(
    planes: dict[str, LocalControlPlane], scene: dict[str, str], idp: LocalIdP, tmp_path: Path,
) -> None:
    """KUBE_IMPERSONATE with several contexts: the caller's Kubernetes identity travels with the
    call into whichever context it names, and that cluster's RBAC decides (bound in east only)."""
    objects = load_kustomization(K8S / "rbac" / "impersonation")
    for plane in planes.values():
        with plane.api_client() as api:
            _ensure_namespace(api, "cnpg-mcp")
            apply(api, objects)
        authz = kubernetes.client.AuthorizationV1Api(plane.api_client("serviceaccount"))
        wait_for(lambda: authz.create_self_subject_access_review(
            {"spec": {"resourceAttributes": {"verb": "impersonate", "resource": "users"}}}).status.allowed,
            "the impersonation RBAC to take effect")
    with planes[EAST].api_client() as api:
        kubernetes.client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(scene[EAST], {
            "metadata": {"name": "cnpg-mcp-caller"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cnpg-mcp-server"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "oidc:mcp-client"}]})
    try:
        settings = Settings.from_env({
            "KUBECONFIG": _kubeconfig(planes, tmp_path, "serviceaccount"), "KUBE_CONTEXTS": ALLOWED,
            "KUBE_IMPERSONATE": "true", "KUBE_TIMEOUT_SECONDS": "5", "OIDC_ISSUER": idp.issuer,
            "OIDC_AUDIENCE": IDP_RESOURCE, "LOG_LEVEL": "WARNING"})
        client = create_app(settings).test_client()
        token = idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)

        def call(context: str, namespace: str) -> dict[str, Any]:
            response = client.post("/mcp", headers={"Authorization": f"Bearer {token}"}, json={
                "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                    "name": "cluster_get", "arguments": {"context": context, "namespace": namespace, "name": "pg"}}})
            return response.get_json()["result"]

        in_east, in_west = call(EAST, scene[EAST]), call(WEST, scene[WEST])
    finally:
        for plane in planes.values():
            with plane.api_client() as api:
                delete(api, objects)

    assert in_east["isError"] is False and in_east["structuredContent"]["context"] == EAST
    assert in_west["isError"] is True
    assert 'User "oidc:mcp-client" cannot get resource "clusters"' in in_west["content"][0]["text"]
    assert "of context 'west'" in in_west["content"][0]["text"]


def _ensure_namespace(api: kubernetes.client.ApiClient, name: str) -> None:
    try:
        kubernetes.client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    except kubernetes.client.ApiException as exc:
        if exc.status != 409:
            raise


# ----- per-context policy: read-only, namespaces, unknown contexts -------------------------


@pytest.fixture(scope="module")
def limited(admin_kubeconfig: str, scene: dict[str, str], planes: dict[str, LocalControlPlane]) -> ToolCaller:
    """east read-only; west writable in its scene namespace only."""
    return tool_caller(admin_kubeconfig, KUBE_CONTEXTS=ALLOWED, MCP_READ_ONLY_CONTEXTS=EAST,
                       MCP_CONTEXT_NAMESPACES=f"{WEST}={scene[WEST]}")


def test_a_read_only_context_refuses_changes_before_any_call_and_still_reads(
    limited: ToolCaller, scene: dict[str, str], planes: dict[str, LocalControlPlane],
) -> None:
    east_ns = scene[EAST]
    refused_create = limited.error("cluster_create", context=EAST, namespace=east_ns, name="pg-new", instances=1)
    refused_scale = limited.error("cluster_scale", context=EAST, namespace=east_ns, name="pg", instances=3)
    read = limited.ok("cluster_get", context=EAST, namespace=east_ns, name="pg")
    default = limited.ok("cluster_list", namespace=east_ns)

    with planes[EAST].api_client() as api:
        assert _cluster_names(api, east_ns) == ["pg"]
        instances = kubernetes.client.CustomObjectsApi(api).get_namespaced_custom_object(
            GROUP, VERSION, east_ns, "clusters", "pg")["spec"]["instances"]
    assert refused_create == "Context 'east' is read-only: cluster_create would change it; writable contexts: west"
    assert refused_scale == "Context 'east' is read-only: cluster_scale would change it; writable contexts: west"
    assert instances == 1
    assert (read["context"], read["name"]) == (EAST, "pg")
    # No `context` argument: the kubeconfig's current context (the first file's), east.
    assert default["context"] == EAST and [c["name"] for c in default["clusters"]] == ["pg"]


def test_a_context_namespace_allow_list_holds_in_that_context_only(
    limited: ToolCaller, scene: dict[str, str], planes: dict[str, LocalControlPlane],
) -> None:
    with planes[WEST].api_client() as api:
        elsewhere = _namespace(api, "ctx-west-other")
    created = limited.ok("cluster_create", context=WEST, namespace=scene[WEST], name="pg-two", instances=1)
    refused_write = limited.error("cluster_create", context=WEST, namespace=elsewhere, name="pg-two", instances=1)
    refused_read = limited.error("cluster_list", context=WEST, namespace=elsewhere)
    west_everywhere = limited.ok("cluster_list", context=WEST)
    east_everywhere = limited.ok("cluster_list", context=EAST)

    with planes[WEST].api_client() as api:
        assert _cluster_names(api, scene[WEST]) == ["pg", "pg-two"]
        assert _cluster_names(api, elsewhere) == []
    with planes[EAST].api_client() as api:
        assert _cluster_names(api, scene[EAST]) == ["pg"]
    assert created["context"] == WEST
    assert refused_write == (f"Namespace {elsewhere!r} is not served by this server in context 'west'; "
                             f"allowed: {scene[WEST]}")
    assert refused_read == refused_write
    # Without a namespace, a context with an allow-list lists exactly its allowed namespaces.
    assert west_everywhere["scope"] == f"namespaces {scene[WEST]}"
    assert {c["namespace"] for c in west_everywhere["clusters"]} == {scene[WEST]}
    assert east_everywhere["scope"] == "all namespaces"


@pytest.mark.parametrize("context", [LAB, "nowhere"])
def test_a_context_that_is_not_allowed_is_refused_naming_the_allowed_ones(
    limited: ToolCaller, scene: dict[str, str], context: str,
) -> None:
    message = limited.error("cluster_get", context=context, namespace=scene[EAST], name="pg")
    listing = limited.error("cluster_list", context=context)

    assert message == f"Context {context!r} is not served by this server; allowed: east, west"
    assert listing == message


def test_tool_schemas_offer_the_allowed_contexts_and_only_writable_ones_for_changes(limited: ToolCaller) -> None:
    tools = {t["name"]: t for t in _rpc(limited.client, "tools/list", {})["result"]["tools"]}

    def enum(tool: str) -> list[str]:
        return tools[tool]["inputSchema"]["properties"]["context"]["enum"]

    assert enum("cluster_get") == [EAST, WEST]
    assert enum("cluster_create") == [WEST]
    assert enum("cluster_delete") == [WEST]
    assert "all_contexts" in tools["cluster_list"]["inputSchema"]["properties"]
    assert "read-only contexts (east)" in tools["cluster_create"]["inputSchema"]["properties"]["context"][
        "description"].lower()


def test_the_audit_line_names_the_context(
    limited: ToolCaller, scene: dict[str, str], caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="cnpg_mcp.audit"):
        limited.ok("cluster_get", context=WEST, namespace=scene[WEST], name="pg")
        limited.ok("cluster_get", namespace=scene[EAST], name="pg")

    lines = [r for r in caplog.records if getattr(r, "event", None) == "tool_call"]
    assert [(r.tool, r.context, r.outcome) for r in lines[-2:]] == [
        ("cluster_get", WEST, "ok"), ("cluster_get", EAST, "ok")]


def test_the_contexts_overlay_serves_kubeconfigs_mounted_as_in_a_pod(
    planes: dict[str, LocalControlPlane], scene: dict[str, str], tmp_path: Path,
) -> None:
    """k8s/overlays/contexts as shipped: its settings, with each Secret's file where the pod mounts
    it (under tmp_path instead of /), one file per cluster named by its directory."""
    config = next(o for o in render(K8S / "overlays" / "contexts")
                  if o["kind"] == "ConfigMap")["data"]
    clusters = dict(zip(config["KUBE_CONTEXTS"].split(","), planes.values()))  # staging: east, prod: west
    files = []
    for mounted in config["KUBECONFIG"].split(":"):
        context = Path(mounted).parent.name
        files.append(clusters[context].write_kubeconfig(tmp_path / mounted.lstrip("/"), context=context))
    tools = tool_caller(":".join(map(str, files)), KUBE_CONTEXTS=config["KUBE_CONTEXTS"],
                        MCP_READ_ONLY_CONTEXTS=config["MCP_READ_ONLY_CONTEXTS"])

    default = tools.ok("cluster_list", namespace=scene[EAST])
    prod = tools.ok("cluster_get", context="prod", namespace=scene[WEST], name="pg")
    refused = tools.error("cluster_delete", context="prod", namespace=scene[WEST], name="pg", confirm="pg")

    assert (default["context"], default["count"]) == ("staging", 1)
    assert (prod["context"], prod["namespace"]) == ("prod", scene[WEST])
    assert refused == "Context 'prod' is read-only: cluster_delete would change it; writable contexts: staging"


# ----- resources, prompts and completions carry the context --------------------------------


def test_resources_name_their_context_and_old_uris_mean_the_default_one(
    limited: ToolCaller, scene: dict[str, str],
) -> None:
    client = limited.client
    listed = {r["uri"] for r in _rpc(client, "resources/list", {})["result"]["resources"]}
    west_uri = f"cnpg://{WEST}/{scene[WEST]}/clusters/pg"
    in_west = _rpc(client, "resources/read", {"uri": west_uri})["result"]["contents"][0]
    old_form = _rpc(client, "resources/read", {"uri": f"cnpg://{scene[EAST]}/clusters/pg"})["result"]["contents"][0]
    lab = _rpc(client, "resources/read", {"uri": f"cnpg://{LAB}/{scene[EAST]}/clusters/pg"})
    templates = _rpc(client, "resources/templates/list", {})["result"]["resourceTemplates"]

    assert {west_uri, f"cnpg://{EAST}/{scene[EAST]}/clusters/pg"} <= listed
    assert json.loads(in_west["text"])["metadata"]["namespace"] == scene[WEST]
    assert json.loads(old_form["text"])["metadata"]["namespace"] == scene[EAST]
    assert "Context 'lab' is not served by this server; allowed: east, west" in lab["error"]["message"]
    assert {t["uriTemplate"] for t in templates} == {
        "cnpg://{namespace}/clusters/{name}", "cnpg://{context}/{namespace}/clusters/{name}"}


def test_prompts_and_completions_follow_the_context(limited: ToolCaller, scene: dict[str, str]) -> None:
    client = limited.client

    def complete(argument: str, value: str, **context: str) -> list[str]:
        answer = _rpc(client, "completion/complete", {
            "ref": {"type": "ref/prompt", "name": "troubleshoot_cluster"},
            "argument": {"name": argument, "value": value}, "context": {"arguments": context}})
        return answer["result"]["completion"]["values"]

    prompt = _rpc(client, "prompts/get", {"name": "troubleshoot_cluster",
                                          "arguments": {"context": WEST, "namespace": scene[WEST], "name": "pg"}})
    missing_in_east = _rpc(client, "prompts/get", {"name": "troubleshoot_cluster",
                                                   "arguments": {"context": EAST, "namespace": scene[WEST],
                                                                 "name": "pg"}})

    assert complete("context", "") == [EAST, WEST]
    assert complete("context", "w") == [WEST]
    assert complete("namespace", "ctx-w", context=WEST) == [scene[WEST]]
    assert complete("namespace", "ctx-w", context=EAST) == []
    assert "pg" in complete("name", "pg", context=WEST, namespace=scene[WEST])
    assert complete("name", "pg", context=EAST, namespace=scene[WEST]) == []
    assert scene[WEST] in json.dumps(prompt["result"]["messages"])
    assert "error" in missing_in_east


# ----- listing across contexts, with one cluster down (last: it stops west's API server) ----


def test_listing_across_contexts_reports_a_stopped_cluster_as_a_line(
    admin_kubeconfig: str, scene: dict[str, str], planes: dict[str, LocalControlPlane],
) -> None:
    tools = tool_caller(admin_kubeconfig, KUBE_CONTEXTS=ALLOWED)
    with planes[WEST].api_client() as api:
        simulate_cluster_ready(api, scene[WEST], "pg")
    both = tools.ok("cluster_list", all_contexts=True)

    planes[WEST].stop_apiserver()
    try:
        one_down = tools.ok("cluster_list", all_contexts=True)
        west_alone = tools.error("cluster_list", context=WEST)
        east_alone = tools.ok("cluster_list", context=EAST, namespace=scene[EAST])
    finally:
        planes[WEST].start_apiserver()
    recovered = tools.ok("cluster_list", all_contexts=True)

    def where(answer: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {(c["context"], c["namespace"], c["name"]) for c in answer["clusters"]}

    ours = {(EAST, scene[EAST], "pg"), (WEST, scene[WEST], "pg")}
    assert ours <= where(both)
    assert both["context"] is None
    assert [(c["context"], c["ok"]) for c in both["contexts"]] == [(EAST, True), (WEST, True)]

    assert (EAST, scene[EAST], "pg") in where(one_down)
    assert {c["context"] for c in one_down["clusters"]} == {EAST}
    east_line, west_line = one_down["contexts"]
    assert (east_line["context"], east_line["ok"]) == (EAST, True)
    assert (west_line["context"], west_line["ok"]) == (WEST, False)
    assert "Kubernetes API" in west_line["error"]
    assert one_down["scope"] == "contexts east, west (failed: west)"
    assert west_line["error"] in west_alone or "Kubernetes API" in west_alone
    assert east_alone["count"] == 1

    assert ours <= where(recovered)
