"""Where the repository, the pinned versions and the per-user cache are."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTROLPLANE_TOOLS = ROOT / "tools" / "controlplane"
OPERATOR_TOOLS = ROOT / "tools" / "operator"


def versions() -> dict[str, str]:
    """KEY=VALUE pairs of tools/controlplane/versions.env, the single source of pinned versions."""
    pairs: dict[str, str] = {}
    for line in (CONTROLPLANE_TOOLS / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip().strip("\"'")
    return pairs


def cache_dir() -> Path:
    """Same root build.sh uses (CNPG_MCP_CACHE), so binaries and the local kubeconfig live together."""
    return Path(os.environ.get("CNPG_MCP_CACHE") or Path.home() / ".cache" / "cnpg-mcp")
