"""Build (first time only) the pinned Helm and render, lint the chart in deploy/helm with it.

tools/helm/build.sh builds `helm.sh/helm/v4/cmd/helm` from the Go module proxy into
${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/helm/<version>/helm; later calls return at once.

    objects = template(CHART, {"rbac": {"mode": "namespaced", "namespaces": ["postgres"]}})
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from devenv.paths import ROOT
from devenv.pinned_tools import ensure_tool, pinned_version

CHART = ROOT / "deploy" / "helm" / "cnpg-mcp-server"


def helm_version() -> str:
    """The pinned helm version (tools/helm/versions.env)."""
    return pinned_version("helm")


def ensure_helm() -> Path:
    """The pinned helm binary, built on first use (tools/helm/build.sh, serialised by a lock).

    Raises:
        RuntimeError: Go is missing (with build.sh's instructions) or the build failed.
    """
    return ensure_tool("helm")


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
