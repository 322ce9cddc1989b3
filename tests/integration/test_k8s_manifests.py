"""The shipped k8s/ overlays, rendered by the pinned kustomize and sent to the real API server.

Every rendered object goes through server-side apply with dryRun=All and fieldValidation=Strict,
so schema errors, unknown or duplicate fields and invalid values fail here, for the built-in
types the local control plane has no controllers for (Ingress, NetworkPolicy, HPA, PDB) too.
The pod template is also dry-run as a Pod in the `restricted` Pod Security namespace, so a
weakened securityContext is rejected by the real PodSecurity admission.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ApiException, ConflictError, NotFoundError

from app.settings import Settings
from devenv.kustomize import render
from tests.support.processes import ROOT

K8S = ROOT / "k8s"
OVERLAYS = ["cluster-wide", "namespaced", "impersonation", "contexts", "token-exchange"]
RENDERED = [*(f"overlays/{name}" for name in OVERLAYS), "redis"]


def _objects(directory: str) -> list[dict[str, Any]]:
    return render(K8S / directory)


def _find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def _one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = _find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
    return found[0]


def _dry_apply(dyn: DynamicClient, obj: dict[str, Any]) -> Any:
    """POST with dryRun=All and fieldValidation=Strict; if the object already exists (another test
    created it for real), PUT the same way over the current resourceVersion: validated either way."""
    resource = dyn.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    namespace = obj["metadata"].get("namespace")
    try:
        return resource.create(body=obj, namespace=namespace, dry_run="All", query_params=_STRICT())
    except ConflictError:
        current = resource.get(name=obj["metadata"]["name"], namespace=namespace)
        body = copy.deepcopy(obj)
        body["metadata"]["resourceVersion"] = current.metadata.resourceVersion
        return resource.replace(body=body, namespace=namespace, dry_run="All", query_params=_STRICT())


def _STRICT() -> list[tuple[str, str]]:  # a fresh list: the client appends dryRun to it
    return [("fieldValidation", "Strict")]


def _ensure_namespace(dyn: DynamicClient, name: str, labels: dict[str, str] | None = None) -> None:
    """Create the namespace for real, or give an existing one the rendered labels (Pod Security)."""
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    try:
        namespaces.get(name=name)
    except NotFoundError:
        namespaces.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    else:
        if labels:
            namespaces.patch(name=name, body={"metadata": {"labels": labels}},
                             content_type="application/merge-patch+json")


def _prepare_namespaces(dyn: DynamicClient, objects: list[dict[str, Any]]) -> None:
    """Dry-run each rendered Namespace, then create it (and every other namespace used) for real."""
    for ns in _find(objects, "Namespace"):
        _dry_apply(dyn, ns)
        _ensure_namespace(dyn, ns["metadata"]["name"], ns["metadata"].get("labels", {}))
    for name in {o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")}:
        _ensure_namespace(dyn, name)


@pytest.fixture
def dyn(admin_api: kubernetes.client.ApiClient) -> DynamicClient:
    return DynamicClient(admin_api)


@pytest.mark.parametrize("directory", RENDERED)
def test_every_rendered_object_passes_strict_server_side_dry_run(dyn: DynamicClient, directory: str) -> None:
    objects = _objects(directory)
    assert objects, f"{directory} rendered nothing"
    keys = Counter((o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects)
    assert [k for k, n in keys.items() if n > 1] == []
    if directory == "redis":  # added to an overlay by users; its namespace comes from the base
        _prepare_namespaces(dyn, _objects("overlays/cluster-wide"))
    _prepare_namespaces(dyn, objects)
    for obj in objects:
        if obj["kind"] == "Namespace":
            continue
        result = _dry_apply(dyn, obj)
        assert result.kind == obj["kind"] and result.metadata.name == obj["metadata"]["name"]
    # dryRun=All persisted nothing: the workloads do not exist afterwards.
    for deployment in _find(objects, "Deployment"):
        with pytest.raises(NotFoundError):
            dyn.resources.get(api_version="apps/v1", kind="Deployment").get(
                name=deployment["metadata"]["name"], namespace=deployment["metadata"]["namespace"]
            )


def test_strict_field_validation_rejects_an_unknown_field(dyn: DynamicClient) -> None:
    """Guards the test above: a typo in a manifest is a 400 from the server, not silently dropped."""
    objects = _objects("overlays/cluster-wide")
    _prepare_namespaces(dyn, objects)
    for kind in ("Deployment", "Ingress", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        broken = copy.deepcopy(_one(objects, kind))
        broken["spec"]["unknownFieldTypo"] = 1
        with pytest.raises(ApiException) as excinfo:
            _dry_apply(dyn, broken)
        assert excinfo.value.status == 400, kind
        assert "unknownFieldTypo" in str(excinfo.value.body), kind


def test_objects_that_already_exist_are_validated_too(dyn: DynamicClient) -> None:
    """Another test (or a real install) may have created an object: the dry run then replaces it,
    still strictly validated, and still persists nothing."""
    objects = _objects("overlays/cluster-wide")
    _prepare_namespaces(dyn, objects)
    config = copy.deepcopy(_one(objects, "ConfigMap", "cnpg-mcp-oidc-config"))
    config["metadata"]["name"] = "manifest-test-existing"
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    configmaps.create(body=config, namespace="cnpg-mcp")
    try:
        changed = copy.deepcopy(config)
        changed["data"]["OIDC_SCOPE"] = "openid profile"
        assert _dry_apply(dyn, changed).data.OIDC_SCOPE == "openid profile"
        assert configmaps.get(name=config["metadata"]["name"], namespace="cnpg-mcp").data.OIDC_SCOPE == "openid"
        changed["unknownFieldTypo"] = 1
        with pytest.raises(ApiException) as excinfo:
            _dry_apply(dyn, changed)
        assert excinfo.value.status == 400 and "unknownFieldTypo" in str(excinfo.value.body)
    finally:
        configmaps.delete(name=config["metadata"]["name"], namespace="cnpg-mcp")


@pytest.mark.parametrize("directory", ["overlays/cluster-wide", "overlays/contexts", "redis"])
def test_pod_templates_pass_restricted_pod_security(dyn: DynamicClient, directory: str) -> None:
    base = _objects("overlays/cluster-wide")
    namespace = _one(base, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    _prepare_namespaces(dyn, base)
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    for deployment in _find(_objects(directory), "Deployment"):
        _assert_pod_security_restricted(pods, deployment)


def _assert_pod_security_restricted(pods: Any, deployment: dict[str, Any]) -> None:
    """The Deployment's pod template is admitted in a namespace enforcing PodSecurity restricted (a strict
    server-side dry run), and refused once its hardening is removed."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": deployment["metadata"]["name"], "namespace": deployment["metadata"]["namespace"]},
        "spec": deployment["spec"]["template"]["spec"],
    }
    pods.create(body=pod, dry_run="All", query_params=_STRICT())
    # The same Pod with its hardening removed is refused: PodSecurity admission is really enforcing.
    weakened = copy.deepcopy(pod)
    del weakened["spec"]["containers"][0]["securityContext"]
    with pytest.raises(ApiException) as excinfo:
        pods.create(body=weakened, dry_run="All")
    assert excinfo.value.status == 403 and "PodSecurity" in str(excinfo.value.body)


def _dockerfile_user() -> tuple[int, int]:
    match = re.search(r"^USER\s+(\d+):(\d+)\s*$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "Dockerfile USER must be numeric uid:gid"
    return int(match.group(1)), int(match.group(2))


def test_base_deployment_matches_the_image_and_the_app() -> None:
    objects = _objects("overlays/cluster-wide")
    deployment = _one(objects, "Deployment", "cnpg-mcp-server")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    config = _one(objects, "ConfigMap", "cnpg-mcp-oidc-config")["data"]
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == _dockerfile_user()
    assert container["envFrom"] == [{"configMapRef": {"name": "cnpg-mcp-oidc-config"}}]
    assert config["GUNICORN_BIND"] == "0.0.0.0:3000"
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert "startupProbe" in container
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "/bin/sleep"
    assert pod["terminationGracePeriodSeconds"] > int(config["GUNICORN_GRACEFUL_TIMEOUT"]) + int(pre_stop[1])
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    # The Service and the HPA point at this Deployment; the ServiceAccount is the one the RBAC binds.
    service = _one(objects, "Service", "cnpg-mcp-server")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    hpa = _one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert _one(objects, "ServiceAccount")["metadata"]["name"] == pod["serviceAccountName"]


def _bound_roles(objects: list[dict[str, Any]], account: str) -> set[tuple[str, str]]:
    """(binding kind, role name) for every binding whose subjects include ServiceAccount `account`."""
    return {
        (b["kind"], b["roleRef"]["name"])
        for b in objects
        if b["kind"] in ("ClusterRoleBinding", "RoleBinding")
        for s in b["subjects"]
        if s["kind"] == "ServiceAccount" and s["name"] == account and s["namespace"] == "cnpg-mcp"
    }


@pytest.mark.parametrize(
    ("overlay", "bindings", "config"),
    [
        ("cluster-wide", {("ClusterRoleBinding", "cnpg-mcp-server")}, {}),
        ("namespaced", {("RoleBinding", "cnpg-mcp-server")}, {"MCP_NAMESPACES": "postgres"}),
        ("impersonation", {("ClusterRoleBinding", "cnpg-mcp-impersonator")}, {"KUBE_IMPERSONATE": "true"}),
        # Acts in other clusters through mounted kubeconfigs: the hosting cluster grants nothing.
        ("contexts", set(), {"KUBE_CONTEXTS": "staging,prod", "MCP_READ_ONLY_CONTEXTS": "prod"}),
        # Calls carry each caller's exchanged token: the ServiceAccount needs no rights at all.
        ("token-exchange", set(), {"KUBE_AUTH": "exchange", "KUBE_EXCHANGE_AUDIENCE": "kubernetes"}),
    ],
)
def test_overlays_bind_exactly_their_mode(overlay: str, bindings: set[tuple[str, str]], config: dict[str, str]) -> None:
    objects = _objects(f"overlays/{overlay}")
    assert _bound_roles(objects, "cnpg-mcp") == bindings
    data = _one(objects, "ConfigMap", "cnpg-mcp-oidc-config")["data"]
    assert {k: data[k] for k in config} == config
    for key in {"KUBE_IMPERSONATE", "MCP_NAMESPACES", "KUBE_AUTH"} - set(config):
        assert key not in data
    for name in {role for _, role in bindings}:
        _one(objects, "ClusterRole", name)  # the bound role ships in the same overlay


def test_the_build_script_pins_the_version_go_mod_requires() -> None:
    from devenv.kustomize import ensure_kustomize, kustomize_version

    binary: Path = ensure_kustomize()
    version = kustomize_version()
    assert binary.parent.name == version
    assert f"sigs.k8s.io/kustomize/kustomize/v5 {version} " in (ROOT / "tools" / "kustomize" / "go.mod").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlays_config_is_accepted_by_the_app(overlay: str, tmp_path: Path) -> None:
    """The ConfigMap is the pods' whole environment (envFrom): app/settings.py must accept it."""
    data = _one(_objects(f"overlays/{overlay}"), "ConfigMap", "cnpg-mcp-oidc-config")["data"]
    if "KUBE_EXCHANGE_CLIENT_SECRET_FILE" in data:  # mounted from a Secret in the pod: here a file under tmp
        data = {**data, "KUBE_EXCHANGE_CLIENT_SECRET_FILE": str(_secret_file_as_mounted(overlay, tmp_path))}
    settings = Settings.from_env(data)
    assert settings.auth_enabled
    assert settings.gunicorn_bind == "0.0.0.0:3000"
    assert settings.kube_impersonate is (overlay == "impersonation")
    assert settings.kube_auth == {"impersonation": "impersonate", "token-exchange": "exchange"}.get(overlay, "serviceaccount")
    if overlay == "namespaced":  # the RoleBinding's namespaces and MCP_NAMESPACES agree
        objects = _objects(f"overlays/{overlay}")
        bound = {b["metadata"]["namespace"] for b in _find(objects, "RoleBinding")}
        assert set(settings.namespaces) == bound == {"postgres"}


@pytest.mark.parametrize(
    ("copy_path", "original"),
    [
        ("overlays/cluster-wide/clusterrolebinding.yaml", "rbac/cluster-wide/clusterrolebinding.yaml"),
        ("overlays/namespaced/rolebinding.yaml", "rbac/namespaced/rolebinding.yaml"),
        ("overlays/impersonation/clusterrole-impersonator.yaml", "rbac/impersonation/clusterrole-impersonator.yaml"),
        ("overlays/impersonation/clusterrolebinding-impersonator.yaml",
         "rbac/impersonation/clusterrolebinding-impersonator.yaml"),
    ],
)
def test_overlay_rbac_copies_match_k8s_rbac(copy_path: str, original: str) -> None:
    """kustomize cannot reference single files outside an overlay, so these are copies of k8s/rbac
    (which test_rbac.py proves sufficient): they must not drift."""
    assert yaml.safe_load((K8S / copy_path).read_text()) == yaml.safe_load((K8S / original).read_text())


def _secret_file_as_mounted(overlay: str, tmp_path: Path) -> Path:
    """The token-exchange client secret's file, checked to come from a read-only Secret mount of the
    Deployment, written under tmp_path at the same relative path."""
    objects = _objects(f"overlays/{overlay}")
    path = _one(objects, "ConfigMap", "cnpg-mcp-oidc-config")["data"]["KUBE_EXCHANGE_CLIENT_SECRET_FILE"]
    pod = _one(objects, "Deployment", "cnpg-mcp-server")["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    mounts = [m for c in pod["containers"] for m in c.get("volumeMounts", [])
              if m["name"] in secrets and path.startswith(m["mountPath"].rstrip("/") + "/")]
    assert len(mounts) == 1 and mounts[0].get("readOnly") is True, mounts
    assert secrets[mounts[0]["name"]] == "cnpg-mcp-token-exchange"
    local = tmp_path / path.lstrip("/")
    local.parent.mkdir(parents=True)
    local.write_text("a-client-secret\n")
    return local


def test_the_contexts_overlay_mounts_every_kubeconfig_it_lists() -> None:
    """KUBECONFIG names one file per cluster; each must come from a mounted, read-only Secret."""
    objects = _objects("overlays/contexts")
    config = _one(objects, "ConfigMap", "cnpg-mcp-oidc-config")["data"]
    pod = _one(objects, "Deployment", "cnpg-mcp-server")["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    files = config["KUBECONFIG"].split(":")

    assert len(files) == len(Settings.from_env(config).kube_contexts) == 2
    for path in files:
        directory, name = path.rsplit("/", 1)
        mount = mounts[directory]
        assert name == "config" and mount["readOnly"] is True
        assert secrets[mount["name"]].startswith("cnpg-mcp-kubeconfig-")
    assert pod["automountServiceAccountToken"] is False
