"""The Helm chart deploy/helm/cnpg-mcp-server, rendered by the pinned Helm and tested like k8s/.

`helm lint --strict` passes; every values combination the docs show renders, and each rendered
object goes through a server-side dry run (dryRun=All, fieldValidation=Strict) against the local
API server; the pod templates pass the real PodSecurity `restricted` admission; each RBAC mode binds
exactly what its kustomize overlay binds; the ConfigMap is accepted by app/settings.py; and for the
same settings the chart renders the same objects as the kustomize overlay (test_k8s_manifests.py
tests those), Deployment included, once Helm's own bookkeeping is set aside (see _normalized).
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
from kubernetes.dynamic.exceptions import NotFoundError

import app
from app.settings import Settings
from devenv.helm import CHART, ensure_helm, helm_version, lint, template
from tests.integration.test_k8s_manifests import (
    _assert_pod_security_restricted,
    _bound_roles,
    _dry_apply,
    _ensure_namespace,
    _find,
    _one,
)
from tests.integration.test_k8s_manifests import _objects as _kustomize
from tests.support.processes import ROOT

RESTRICTED = {"pod-security.kubernetes.io/enforce": "restricted"}
RELEASE, NAMESPACE = "cnpg-mcp-server", "cnpg-mcp"

# Every values combination the chart's documentation shows (values.yaml and the README's
# "Helm" section): name -> values file contents.
COMBINATIONS: dict[str, dict[str, Any]] = {
    "cluster-wide": {},
    "namespaced": {"rbac": {"mode": "namespaced", "namespaces": ["postgres", "team-a"]}},
    "impersonation": {"rbac": {"mode": "impersonation"}},
    "token-exchange": {"rbac": {"mode": "none"}, "tokenExchange": {"enabled": True}},
    "contexts": {"rbac": {"mode": "none"}, "kubeContexts": [{"name": "staging"}, {"name": "prod", "readOnly": True}]},
    "redis": {"redis": {"enabled": True}},
    "ingress": {"ingress": {"enabled": True, "host": "mcp.example.com"},
                "config": {"MCP_PUBLIC_URL": "https://mcp.example.com"}},
    "secrets": {
        "config": {"DCR_PROXY_BACKEND": "upstream", "DCR_UPSTREAM_REGISTRATION_URL": "https://auth.example.com/register",
                   "MCP_CONFIRM": "person"},
        "dcrUpstreamToken": {"existingSecret": "cnpg-mcp-dcr-upstream"},
        "requestStateKey": {"existingSecret": "cnpg-mcp-request-state"},
    },
    "plain": {"autoscaling": {"enabled": False}, "podDisruptionBudget": {"enabled": False},
              "networkPolicy": {"enabled": False}, "replicaCount": 1},
}

# The chart's values that render what `kustomize build k8s/overlays/<overlay>` renders. The image
# tag is the only value set to match: the base pins `latest`, the chart the appVersion.
SAME_AS_OVERLAY: dict[str, dict[str, Any]] = {
    "cluster-wide": {},
    "namespaced": {"rbac": {"mode": "namespaced", "namespaces": ["postgres"]}},
    "impersonation": {"rbac": {"mode": "impersonation"}},
    "token-exchange": {"rbac": {"mode": "none"}, "tokenExchange": {"enabled": True}},
    "contexts": COMBINATIONS["contexts"],
}
_MATCH_BASE = {"image": {"tag": "latest"}, "ingress": {"enabled": True}}

# Labels Helm adds for its own bookkeeping (chart, release, version, manager): not in k8s/.
_HELM_LABELS = {"helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/version",
                "app.kubernetes.io/managed-by"}


def _merged(*layers: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(result.get(key), dict):
                result[key] = _merged(result[key], value)
            else:
                result[key] = copy.deepcopy(value)
    return result


_RENDERED: dict[str, list[dict[str, Any]]] = {}


def _chart(name: str) -> list[dict[str, Any]]:
    """The chart rendered with COMBINATIONS[name] (rendered once per session: it never changes)."""
    if name not in _RENDERED:
        _RENDERED[name] = template(CHART, COMBINATIONS[name], release=RELEASE, namespace=NAMESPACE)
    return copy.deepcopy(_RENDERED[name])


@pytest.fixture
def dyn(admin_api: kubernetes.client.ApiClient) -> DynamicClient:
    return DynamicClient(admin_api)


def _prepare_namespaces(dyn: DynamicClient, objects: list[dict[str, Any]]) -> None:
    """The release namespace as the docs create it (restricted Pod Security), and every other one used."""
    _ensure_namespace(dyn, NAMESPACE, RESTRICTED)
    for name in {o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")} - {NAMESPACE}:
        _ensure_namespace(dyn, name)


def test_helm_lint_strict_passes_for_every_combination() -> None:
    for name, values in COMBINATIONS.items():
        output = lint(CHART, values)
        assert "0 chart(s) failed" in output, (name, output)


def test_the_build_script_pins_the_version_go_mod_requires() -> None:
    binary: Path = ensure_helm()
    version = helm_version()
    assert binary.parent.name == version
    assert f"helm.sh/helm/v4 {version} " in (ROOT / "tools" / "helm" / "go.mod").read_text()


def test_chart_app_version_is_the_servers_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == app.__version__
    deployment = _one(_chart("cluster-wide"), "Deployment", "cnpg-mcp-server")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"cnpg-mcp-server:{app.__version__}"


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_every_rendered_object_passes_strict_server_side_dry_run(dyn: DynamicClient, name: str) -> None:
    objects = _chart(name)
    assert objects, f"{name} rendered nothing"
    assert not _find(objects, "Namespace"), "Helm installs into the release namespace (--create-namespace)"
    keys = Counter((o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects)
    assert [k for k, n in keys.items() if n > 1] == []
    _prepare_namespaces(dyn, objects)
    for obj in objects:
        result = _dry_apply(dyn, obj)
        assert result.kind == obj["kind"] and result.metadata.name == obj["metadata"]["name"]
    for deployment in _find(objects, "Deployment"):  # dryRun=All persisted nothing
        with pytest.raises(NotFoundError):
            dyn.resources.get(api_version="apps/v1", kind="Deployment").get(
                name=deployment["metadata"]["name"], namespace=deployment["metadata"]["namespace"]
            )


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_pod_templates_pass_restricted_pod_security(dyn: DynamicClient, name: str) -> None:
    objects = _chart(name)
    _prepare_namespaces(dyn, objects)
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    deployments = _find(objects, "Deployment")
    assert len(deployments) == (2 if name == "redis" else 1)
    for deployment in deployments:
        _assert_pod_security_restricted(pods, deployment)


@pytest.mark.parametrize("overlay", list(SAME_AS_OVERLAY))
def test_each_mode_binds_exactly_what_its_overlay_binds(overlay: str) -> None:
    chart = template(CHART, SAME_AS_OVERLAY[overlay], release=RELEASE, namespace=NAMESPACE)
    kustomized = _kustomize(f"overlays/{overlay}")
    assert _bound_roles(chart, "cnpg-mcp") == _bound_roles(kustomized, "cnpg-mcp")

    def bindings(objects: list[dict[str, Any]]) -> set[tuple[str, str | None, str]]:
        return {(o["kind"], o["metadata"].get("namespace"), o["roleRef"]["name"])
                for o in objects if o["kind"] in ("ClusterRoleBinding", "RoleBinding")}

    assert bindings(chart) == bindings(kustomized)
    for _, _, role in bindings(chart):
        assert _one(chart, "ClusterRole", role)["rules"] == _one(kustomized, "ClusterRole", role)["rules"]


def test_namespaced_mode_binds_each_listed_namespace_and_sets_mcp_namespaces() -> None:
    objects = _chart("namespaced")
    bound = {b["metadata"]["namespace"] for b in _find(objects, "RoleBinding")}
    data = _one(objects, "ConfigMap", "cnpg-mcp-oidc-config")["data"]
    assert bound == {"postgres", "team-a"} == set(Settings.from_env(data).namespaces)
    assert not _find(objects, "ClusterRoleBinding")


def test_the_tools_role_is_k8s_rbac_tools_role() -> None:
    role = _one(_chart("cluster-wide"), "ClusterRole", "cnpg-mcp-server")
    shipped = yaml.safe_load((ROOT / "k8s" / "rbac" / "tools-role" / "clusterrole.yaml").read_text())
    assert role["rules"] == shipped["rules"]


def _secret_files_as_mounted(objects: list[dict[str, Any]], data: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`data` with each *_FILE path checked to lie in a read-only Secret mount of the Deployment,
    and replaced by a file under tmp_path at the same relative path."""
    pod = _one(objects, "Deployment", "cnpg-mcp-server")["spec"]["template"]["spec"]
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    result = dict(data)
    for key, path in data.items():
        if not key.endswith("_FILE") or key == "OIDC_CA_FILE":
            continue
        mounts = [m for c in pod["containers"] for m in c.get("volumeMounts", [])
                  if m["name"] in secrets and path.startswith(m["mountPath"].rstrip("/") + "/")]
        assert len(mounts) == 1 and mounts[0].get("readOnly") is True, (key, mounts)
        local = tmp_path / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text("a-secret-of-at-least-thirty-two-characters\n")
        result[key] = str(local)
    return result


@pytest.mark.parametrize("name", list(COMBINATIONS))
def test_the_chart_config_is_accepted_by_the_app(name: str, tmp_path: Path) -> None:
    """The ConfigMap is the pods' whole environment (envFrom): app/settings.py must accept it."""
    objects = _chart(name)
    config = _one(objects, "ConfigMap", "cnpg-mcp-oidc-config")
    data = _secret_files_as_mounted(objects, config["data"], tmp_path)
    settings = Settings.from_env(data)
    assert settings.auth_enabled
    assert settings.gunicorn_bind == "0.0.0.0:3000"
    assert settings.kube_impersonate is (name == "impersonation")
    assert settings.kube_auth == {"impersonation": "impersonate", "token-exchange": "exchange"}.get(name, "serviceaccount")
    container = _one(objects, "Deployment", "cnpg-mcp-server")["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    if name == "redis":  # the URI k8s/redis/kustomization.yaml documents, served by the chart's Redis Service
        assert data["RATELIMIT_STORAGE_URI"] == "redis://cnpg-mcp-redis.cnpg-mcp.svc:6379/0"
        _one(objects, "Service", "cnpg-mcp-redis")
    if name == "contexts":  # every file KUBECONFIG lists comes from a mounted, read-only Secret
        pod = _one(objects, "Deployment", "cnpg-mcp-server")["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        files = data["KUBECONFIG"].split(":")
        assert settings.kube_contexts == ("staging", "prod") and len(files) == 2
        assert tuple(settings.read_only_contexts) == ("prod",)
        for path in files:
            directory, file_name = path.rsplit("/", 1)
            assert file_name == "config" and mounts[directory]["readOnly"] is True
            assert secrets[mounts[directory]["name"]] == f"cnpg-mcp-kubeconfig-{directory.rsplit('/', 1)[1]}"
        assert pod["automountServiceAccountToken"] is False
    if name == "secrets":
        assert settings.confirm_mode == "person" and settings.dcr_upstream_initial_access_token


def _strip_helm_labels(node: Any) -> Any:
    """A copy of `node` without _HELM_LABELS in any label map (labels, matchLabels, a Service's selector)."""
    if isinstance(node, list):
        return [_strip_helm_labels(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: ({k: v for k, v in value.items() if k not in _HELM_LABELS}
              if key in ("labels", "matchLabels", "selector") and isinstance(value, dict)
              and all(isinstance(v, str) for v in value.values()) else _strip_helm_labels(value))
        for key, value in node.items()
    }


def _normalized(obj: dict[str, Any]) -> dict[str, Any]:
    """What the chart and kustomize must agree on. Set aside, on both sides:
    - _HELM_LABELS (helm.sh/chart, app.kubernetes.io/instance/version/managed-by) everywhere, selectors
      included: the chart selects by app.kubernetes.io/instance too, so two releases in one namespace
      never select each other's pods; k8s/ has one installation per namespace and selects by name;
    - the pod template's checksum/config annotation: Helm rolls the pods when the ConfigMap changes;
    - the Deployment's spec.replicas when an HPA scales it: the chart leaves the count to the HPA (so
      `helm upgrade` never resets it), the base sets 2, the HPA's minReplicas, which the HPA enforces;
    - the order of volumes and volumeMounts, sorted by name (kustomize's strategic merge puts a
      patch's entries first; the order has no meaning);
    - comments and key order (compared as parsed YAML).
    Everything else (containers, securityContext, probes, resources, volumes, ...) must be equal."""
    obj = _strip_helm_labels(copy.deepcopy(obj))
    metadata = obj["metadata"]
    if not metadata.get("labels"):
        metadata.pop("labels", None)
    if obj["kind"] == "Deployment":
        obj["spec"].pop("replicas", None)
        template_metadata = obj["spec"]["template"]["metadata"]
        annotations = {k: v for k, v in template_metadata.get("annotations", {}).items() if k != "checksum/config"}
        if annotations:
            template_metadata["annotations"] = annotations
        else:
            template_metadata.pop("annotations", None)
        pod = obj["spec"]["template"]["spec"]
        pod["volumes"] = sorted(pod.get("volumes", []), key=lambda v: v["name"])
        for container in pod["containers"]:
            container["volumeMounts"] = sorted(container.get("volumeMounts", []), key=lambda m: m["name"])
    return obj


def _by_key(objects: list[dict[str, Any]]) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")): _normalized(o) for o in objects}


@pytest.mark.parametrize("overlay", list(SAME_AS_OVERLAY))
def test_the_chart_renders_the_same_objects_as_the_overlay(overlay: str) -> None:
    """Same settings, same objects: Deployment, ConfigMap, RBAC, Service, Ingress, NetworkPolicy, PDB
    and HPA, equal after _normalized; the only object k8s/ has more is the Namespace (the release's)."""
    chart = _by_key(template(CHART, _merged(SAME_AS_OVERLAY[overlay], _MATCH_BASE), release=RELEASE,
                             namespace=NAMESPACE))
    kustomized = _by_key([o for o in _kustomize(f"overlays/{overlay}") if o["kind"] != "Namespace"])
    assert sorted(chart, key=str) == sorted(kustomized, key=str)
    deployment = ("Deployment", "cnpg-mcp-server", NAMESPACE)
    assert chart[deployment]["spec"] == kustomized[deployment]["spec"]  # the pod's hardening first, for a clear diff
    for key in kustomized:
        assert chart[key] == kustomized[key], key


def test_redis_on_renders_k8s_redis() -> None:
    chart = _by_key(_chart("redis"))
    redis = _by_key(_kustomize("redis"))
    assert {key: chart[key] for key in redis} == redis
    # The server's NetworkPolicy lets its pods reach exactly these Redis pods.
    egress = chart[("NetworkPolicy", "cnpg-mcp-server", NAMESPACE)]["spec"]["egress"]
    redis_labels = redis[("Deployment", "cnpg-mcp-redis", NAMESPACE)]["spec"]["template"]["metadata"]["labels"]
    assert any(peer.get("podSelector", {}).get("matchLabels", {}).items() <= redis_labels.items()
               for rule in egress for peer in rule.get("to", []) if "podSelector" in peer)


def test_other_release_names_and_fullname_override_name_every_object_consistently() -> None:
    for values, release, prefix in (({}, "team-a", "team-a-cnpg-mcp"), ({"fullnameOverride": "mcp-prod"}, "x", "mcp-prod")):
        values = _merged(values, {"rbac": {"mode": "impersonation"}, "redis": {"enabled": True}})
        objects = template(CHART, values, release=release, namespace="team-a-ns")
        full = f"{prefix}-server" if not values.get("fullnameOverride") else prefix
        deployment = _one(objects, "Deployment", full)
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == _one(objects, "ServiceAccount")["metadata"]["name"] == prefix
        assert pod["containers"][0]["envFrom"][0]["configMapRef"]["name"] == f"{prefix}-oidc-config"
        data = _one(objects, "ConfigMap", f"{prefix}-oidc-config")["data"]
        assert data["RATELIMIT_STORAGE_URI"] == f"redis://{prefix}-redis.team-a-ns.svc:6379/0"
        assert _bound_roles_in(objects, prefix, "team-a-ns") == {("ClusterRoleBinding", f"{prefix}-impersonator")}
        assert all(o["metadata"].get("namespace") in (None, "team-a-ns") for o in objects)
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector == {"app.kubernetes.io/name": "cnpg-mcp-server", "app.kubernetes.io/instance": release}
        assert _one(objects, "Service", full)["spec"]["selector"] == selector


def _bound_roles_in(objects: list[dict[str, Any]], account: str, namespace: str) -> set[tuple[str, str]]:
    return {
        (b["kind"], b["roleRef"]["name"])
        for b in objects
        if b["kind"] in ("ClusterRoleBinding", "RoleBinding")
        for s in b["subjects"]
        if s["kind"] == "ServiceAccount" and s["name"] == account and s["namespace"] == namespace
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rbac": {"mode": "everything"}}, "rbac.mode must be one of"),
        ({"rbac": {"mode": "namespaced"}}, "needs rbac.namespaces"),
        ({"rbac": {"namespaces": ["postgres"]}}, "only used with rbac.mode=namespaced"),
        ({"tokenExchange": {"enabled": True}}, "set rbac.mode=none"),
        ({"kubeContexts": [{"name": "prod"}]}, "set rbac.mode=none"),
        ({"rbac": {"mode": "none"}, "kubeContexts": [{"name": "Prod_1"}]}, "a DNS label"),
    ],
)
def test_contradictory_values_fail_to_render(values: dict[str, Any], message: str) -> None:
    with pytest.raises(RuntimeError, match=re.escape(message)):
        template(CHART, values)


# Blocks of values.yaml documented as a whole by the comment above them (Kubernetes fields passed through).
_DATA_BLOCKS = {"podSecurityContext", "securityContext", "resources", "ingress.annotations",
                "networkPolicy.ingressFrom", "redis.resources"}


def test_values_yaml_documents_every_value() -> None:
    """Each key of values.yaml has a comment of its own, on its line or right above it, unless it
    lies inside one of _DATA_BLOCKS."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    path: list[tuple[int, str]] = []  # (indent, key) of the enclosing keys
    undocumented = []
    for i, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z][\w.\-/]*):", line)
        if not match:
            continue
        indent = len(match.group(1))
        while path and path[-1][0] >= indent:
            path.pop()
        dotted = ".".join([key for _, key in path] + [match.group(2)])
        path.append((indent, match.group(2)))
        if any(dotted.startswith(block + ".") for block in _DATA_BLOCKS):
            continue
        above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        if " #" not in line and not above.strip().startswith("#"):
            undocumented.append(dotted)
    assert undocumented == []
