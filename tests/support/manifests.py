"""Load the shipped k8s/ kustomizations (resources only) and apply them to the test API server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes
import yaml

from tests.support.processes import ROOT

K8S = ROOT / "k8s"


def load_kustomization(directory: Path) -> list[dict[str, Any]]:
    """The objects a resources-only kustomization renders, in order."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - {"apiVersion", "kind", "resources"}
    if unsupported:
        raise ValueError(f"{directory}: this loader renders only 'resources', not {sorted(unsupported)}")
    objects: list[dict[str, Any]] = []
    for entry in kustomization["resources"]:
        path = (directory / entry).resolve()
        if path.is_dir():
            objects.extend(load_kustomization(path))
        else:
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return objects


def apply(api: kubernetes.client.ApiClient, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        try:
            kubernetes.utils.create_from_dict(api, obj)
        except kubernetes.utils.FailToCreateError as exc:
            if not all(e.status == 409 for e in exc.api_exceptions):
                raise


def delete(api: kubernetes.client.ApiClient, objects: list[dict[str, Any]]) -> None:
    """Remove what `apply` created (bindings and roles; namespaced objects by their namespace)."""
    rbac, core = kubernetes.client.RbacAuthorizationV1Api(api), kubernetes.client.CoreV1Api(api)
    for obj in reversed(objects):
        kind, meta = obj["kind"], obj["metadata"]
        calls = {
            "ClusterRoleBinding": lambda: rbac.delete_cluster_role_binding(meta["name"]),
            "ClusterRole": lambda: rbac.delete_cluster_role(meta["name"]),
            "RoleBinding": lambda: rbac.delete_namespaced_role_binding(meta["name"], meta["namespace"]),
            "ServiceAccount": lambda: core.delete_namespaced_service_account(meta["name"], meta["namespace"]),
        }
        try:
            calls[kind]()
        except kubernetes.client.ApiException as exc:
            if exc.status != 404:
                raise
