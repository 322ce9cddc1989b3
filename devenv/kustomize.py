"""Build (first time only) the pinned kustomize and render the k8s/ kustomizations with it.

tools/kustomize/build.sh builds `sigs.k8s.io/kustomize/kustomize/v5` from the Go module proxy
into ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/kustomize/<version>/kustomize; later calls return at once.

    objects = render(ROOT / "k8s" / "overlays" / "cluster-wide")   # what `kubectl apply -k` sends
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from devenv.pinned_tools import ensure_tool, pinned_version



def kustomize_version() -> str:
    """The pinned kustomize version (tools/kustomize/versions.env)."""
    return pinned_version("kustomize")


def ensure_kustomize() -> Path:
    """The pinned kustomize binary, built on first use (tools/kustomize/build.sh, serialised by a lock).

    Raises:
        RuntimeError: Go is missing (with build.sh's instructions) or the build failed.
    """
    return ensure_tool("kustomize")


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects `kustomize build <directory>` renders, in its output order.

    Raises:
        RuntimeError: kustomize rejected the kustomization (its message included).
    """
    proc = subprocess.run(
        [str(ensure_kustomize()), "build", str(directory)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kustomize build {directory} failed:\n{proc.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
