"""Build (first time only) the pinned Helm and render, lint the chart in deploy/helm with it.

tools/helm/build.sh builds `helm.sh/helm/v4/cmd/helm` from the Go module proxy into
${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/helm/<version>/helm; later calls return at once.

    objects = template(CHART, {"rbac": {"mode": "namespaced", "namespaces": ["postgres"]}})
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from devenv.paths import ROOT, cache_dir

HELM_TOOLS = ROOT / "tools" / "helm"
BUILD_SCRIPT = HELM_TOOLS / "build.sh"
CHART = ROOT / "deploy" / "helm" / "cnpg-mcp-server"
# build.sh's exit status when Go is not installed; its stderr then says how to get Go.
_EXIT_NO_GO = 3


def helm_version() -> str:
    """HELM_VERSION from tools/helm/versions.env (e.g. v4.3.2)."""
    for line in (HELM_TOOLS / "versions.env").read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key == "HELM_VERSION":
            return value.strip().strip("\"'")
    raise RuntimeError(f"{HELM_TOOLS / 'versions.env'} has no HELM_VERSION")


def ensure_helm() -> Path:
    """Run tools/helm/build.sh (serialised by a lock) and return the helm binary.

    Raises:
        RuntimeError: Go is missing (with build.sh's instructions) or the build failed.
    """
    lock_path = cache_dir() / "helm" / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # build.sh writes into one fixed <dir>.tmp: concurrent builds take turns.
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False)
    if proc.returncode == _EXIT_NO_GO:
        raise RuntimeError(f"cannot build helm without Go:\n{proc.stderr.strip()}")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-40:])
        raise RuntimeError(f"{BUILD_SCRIPT} failed with exit status {proc.returncode}:\n{tail}")
    binary = Path(proc.stdout.strip().splitlines()[-1])
    if not binary.is_file():
        raise RuntimeError(f"{BUILD_SCRIPT} reported {binary}, which does not exist")
    return binary


def _helm(args: list[str], values: dict[str, Any] | None) -> subprocess.CompletedProcess[str]:
    """Run helm with `values` as a values file, isolated from the user's Helm config and repositories."""
    with tempfile.TemporaryDirectory(prefix="cnpg-mcp-helm-") as home:
        env = {**os.environ, "HELM_CONFIG_HOME": f"{home}/config", "HELM_CACHE_HOME": f"{home}/cache",
               "HELM_DATA_HOME": f"{home}/data"}
        extra: list[str] = []
        if values is not None:
            path = Path(home) / "values.json"  # JSON is YAML: helm reads it as a values file
            path.write_text(json.dumps(values))
            extra = ["--values", str(path)]
        return subprocess.run([str(ensure_helm()), *args, *extra], capture_output=True, text=True, check=False,
                              env=env)


def template(chart: Path = CHART, values: dict[str, Any] | None = None, *, release: str = "cnpg-mcp-server",
             namespace: str = "cnpg-mcp") -> list[dict[str, Any]]:
    """The objects `helm template <release> <chart> --namespace <namespace> -f <values>` renders.

    Raises:
        RuntimeError: helm rejected the chart or the values (its message included).
    """
    proc = _helm(["template", release, str(chart), "--namespace", namespace], values)
    if proc.returncode != 0:
        raise RuntimeError(f"helm template {chart} failed:\n{proc.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def lint(chart: Path = CHART, values: dict[str, Any] | None = None) -> str:
    """`helm lint --strict <chart>` (warnings fail too); returns its output.

    Raises:
        RuntimeError: the chart has a lint error or warning (helm's report included).
    """
    proc = _helm(["lint", "--strict", str(chart)], values)
    if proc.returncode != 0:
        raise RuntimeError(f"helm lint --strict {chart} failed:\n{proc.stdout.strip()}\n{proc.stderr.strip()}")
    return proc.stdout
