"""Pinned command-line tools built from the Go module proxy into the cache (tools/<name>/build.sh):
their pinned version, and the build, serialised by a lock, returning the binary.

Each tools/<name>/ has a versions.env (`<NAME>_VERSION=…`) and a build.sh that prints the binary's
path on its last line, returns at once when it is cached, and exits 3 when Go is missing.
"""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

from devenv.paths import ROOT, cache_dir

# build.sh's exit status when Go is not installed; its stderr then says how to get Go.
_EXIT_NO_GO = 3


def pinned_version(name: str) -> str:
    """<NAME>_VERSION from tools/<name>/versions.env (e.g. v5.8.2)."""
    env_file = ROOT / "tools" / name / "versions.env"
    key = f"{name.upper()}_VERSION"
    for line in env_file.read_text().splitlines():
        found, sep, value = line.strip().partition("=")
        if sep and found == key:
            return value.strip().strip("\"'")
    raise RuntimeError(f"{env_file} has no {key}")


def ensure_tool(name: str) -> Path:
    """Run tools/<name>/build.sh (serialised by a lock) and return the binary it reports.

    Raises:
        RuntimeError: Go is missing (with build.sh's instructions) or the build failed.
    """
    script = ROOT / "tools" / name / "build.sh"
    lock_path = cache_dir() / name / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # build.sh writes into one fixed <dir>.tmp: concurrent builds take turns.
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if proc.returncode == _EXIT_NO_GO:
        raise RuntimeError(f"cannot build {name} without Go:\n{proc.stderr.strip()}")
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-40:])
        raise RuntimeError(f"{script} failed with exit status {proc.returncode}:\n{tail}")
    binary = Path(proc.stdout.strip().splitlines()[-1])
    if not binary.is_file():
        raise RuntimeError(f"{script} reported {binary}, which does not exist")
    return binary
