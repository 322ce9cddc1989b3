"""Build (first time only) the pinned kustomize and render the k8s/ kustomizations with it.

tools/kustomize/build.sh builds `sigs.k8s.io/kustomize/kustomize/v5` from the Go module proxy
into ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/kustomize/<version>/kustomize; later calls return at once.

    objects = render(ROOT / "k8s" / "overlays" / "cluster-wide")   # what `kubectl apply -k` sends
"""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path
from typing import Any

import yaml

from devenv.paths import ROOT, cache_dir

KUSTOMIZE_TOOLS = ROOT / "tools" / "kustomize"
BUILD_SCRIPT = KUSTOMIZE_TOOLS / "build.sh"
# build.sh's exit status when Go is not installed; its stderr then says how to get Go.
_EXIT_NO_GO = 3


def kustomize_version() -> str:
    """KUSTOMIZE_VERSION from tools/kustomize/versions.env (e.g. v5.8.2)."""
    for line in (KUSTOMIZE_TOOLS / "versions.env").read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key == "KUSTOMIZE_VERSION":
            return value.strip().strip("\"'")
    raise RuntimeError(f"{KUSTOMIZE_TOOLS / 'versions.env'} has no KUSTOMIZE_VERSION")


def ensure_kustomize() -> Path:
    """Run tools/kustomize/build.sh (serialised by a lock) and return the kustomize binary.

    Raises:
        RuntimeError: Go is missing (with build.sh's instructions) or the build failed.
    """
    lock_path = cache_dir() / "kustomize" / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # build.sh writes into one fixed <dir>.tmp: concurrent builds take turns.
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False)
    if proc.returncode == _EXIT_NO_GO:
        raise RuntimeError(f"cannot build kustomize without Go:\n{proc.stderr.strip()}")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-40:])
        raise RuntimeError(f"{BUILD_SCRIPT} failed with exit status {proc.returncode}:\n{tail}")
    binary = Path(proc.stdout.strip().splitlines()[-1])
    if not binary.is_file():
        raise RuntimeError(f"{BUILD_SCRIPT} reported {binary}, which does not exist")
    return binary


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
