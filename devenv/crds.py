"""The CloudNativePG CRDs: found in the Go module cache (pinned CNPG_VERSION) and installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import kubernetes
import yaml
from kubernetes.client.rest import ApiException

from devenv.paths import versions

GROUP = "postgresql.cnpg.io"
VERSION = "v1"
MODULE = "github.com/cloudnative-pg/cloudnative-pg"
SNAPSHOTTER_MODULE = "github.com/kubernetes-csi/external-snapshotter/client/v8"
# libyaml parses the 1.2 MB of CRDs ~10x faster than the pure-Python loader.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def module_dir(module: str = MODULE, version: str | None = None) -> Path:
    """A Go module's source tree, downloaded once into the Go module cache; by default the pinned
    CloudNativePG release.

    Raises:
        RuntimeError: Go is missing, or the module could not be downloaded.
    """
    go = shutil.which("go")
    if go is None:
        raise RuntimeError(
            "Go is required to fetch the CloudNativePG module (`go mod download`); "
            "install Go >= 1.26 (see tools/controlplane/build.sh)"
        )
    module = f"{module}@{version or versions()['CNPG_VERSION']}"
    env = {k: v for k, v in os.environ.items() if k != "GOFLAGS"}
    # Outside any module (no go.mod in a fresh temp dir), without workspaces or toolchain switches.
    env.update(GOWORK="off", GOTOOLCHAIN="local", GO111MODULE="on")
    with tempfile.TemporaryDirectory(prefix="cnpg-module-") as cwd:
        done = subprocess.run(
            [go, "mod", "download", "-json", module], cwd=cwd, env=env, capture_output=True, text=True
        )
    try:
        info = json.loads(done.stdout)
    except json.JSONDecodeError:
        info = {}
    if done.returncode != 0 or "Dir" not in info:
        detail = info.get("Error") or done.stderr.strip() or done.stdout.strip()
        raise RuntimeError(f"go mod download {module} failed: {detail}")
    return Path(info["Dir"])


def crd_files() -> list[Path]:
    """config/crd/bases/*.yaml of the pinned CNPG release.

    Only the CRDs: the operator's own objects and its webhooks come from the release
    manifest, installed by devenv/operator.py once the operator serves them.
    """
    bases = module_dir() / "config" / "crd" / "bases"
    files = sorted(bases.glob("*.yaml"))
    if not files:
        raise RuntimeError(f"no CRDs under {bases}")
    return files


def volume_snapshot_crd_files() -> list[Path]:
    """The CSI VolumeSnapshot CRDs (snapshot.storage.k8s.io), at the external-snapshotter client
    version the pinned operator is built with (its go.mod): the operator enables volumeSnapshot
    backups only when it finds them at start."""
    go_mod = (module_dir() / "go.mod").read_text()
    match = re.search(rf"^\s*{re.escape(SNAPSHOTTER_MODULE)} (v\S+)", go_mod, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{MODULE} go.mod does not require {SNAPSHOTTER_MODULE}")
    crds = module_dir(SNAPSHOTTER_MODULE, match.group(1)) / "config" / "crd"
    files = sorted(crds.glob("snapshot.storage.k8s.io_*.yaml"))
    if not files:
        raise RuntimeError(f"no VolumeSnapshot CRDs under {crds}")
    return files


def load_crds(files: list[Path] | None = None) -> list[dict]:
    docs = []
    for path in files if files is not None else crd_files():
        with open(path) as handle:
            docs.extend(d for d in yaml.load_all(handle, Loader=_Loader) if d)
    return docs


def install_crds(api_client: kubernetes.client.ApiClient, files: list[Path] | None = None, timeout: float = 60.0) -> list[str]:
    """Create every CRD (default: CloudNativePG's), then wait until all are Established and discovery
    serves clusters (and volumesnapshots, when those are among them).

    POST (create), never client-side apply: the clusters CRD is 461 KB, over the 256 KiB
    last-applied annotation limit. An existing CRD is left alone (AlreadyExists tolerated),
    so this is safe to call against an apiserver that already has them.

    Returns:
        The CRD names, e.g. "clusters.postgresql.cnpg.io".
    """
    ext = kubernetes.client.ApiextensionsV1Api(api_client)
    names = []
    docs = load_crds(files)
    for doc in docs:
        names.append(doc["metadata"]["name"])
        try:
            ext.create_custom_resource_definition(kubernetes.client.V1CustomResourceDefinition.from_dict(doc))
        except ApiException as exc:
            if exc.status != 409:
                raise
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            if _established(ext.read_custom_resource_definition(name)):
                pending.discard(name)
        _check_deadline(deadline, timeout, f"CRDs not Established: {', '.join(sorted(pending))}", pending)
    # Established means the apiserver accepted the CRD; the discovery document that clients
    # (and kubectl) resolve "clusters" through is refreshed separately, moments later.
    custom = kubernetes.client.CustomObjectsApi(api_client)
    served = {(doc["spec"]["group"], next(v["name"] for v in doc["spec"]["versions"] if v.get("storage")),
               doc["spec"]["names"]["plural"])
              for doc in docs if doc["spec"]["names"]["plural"] in ("clusters", "volumesnapshots")}
    for group, version, plural in sorted(served):
        while not _discovered(custom, group, version, plural):
            _check_deadline(deadline, timeout, f"discovery does not list {group}/{version} {plural}", True)
    return names


def _check_deadline(deadline: float, timeout: float, message: str, still_waiting: object) -> None:
    if not still_waiting:
        return
    if time.monotonic() > deadline:
        raise TimeoutError(f"{message} after {timeout:.0f}s")
    time.sleep(0.1)


def _established(crd: kubernetes.client.V1CustomResourceDefinition) -> bool:
    conditions = (crd.status.conditions if crd.status else None) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)


def _discovered(custom: kubernetes.client.CustomObjectsApi, group: str, version: str, plural: str) -> bool:
    try:
        resources = custom.get_api_resources(group, version)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return any(r.name == plural for r in resources.resources)
