"""Build (first time only) and locate the control plane binaries and the CloudNativePG operator."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import threading
from pathlib import Path

from devenv.paths import CONTROLPLANE_TOOLS, OPERATOR_TOOLS, cache_dir, versions

BUILD_SCRIPT = CONTROLPLANE_TOOLS / "build.sh"
OPERATOR_BUILD_SCRIPT = OPERATOR_TOOLS / "build.sh"
CONTROLPLANE_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
# build.sh's exit status when Go is not installed; its stderr then says how to get Go.
_EXIT_NO_GO = 3
# Measured on a fresh clone on a 2-core machine with an empty build cache (issue 18): the builds took 6.3
# minutes (etcd 45 s, kube-apiserver 184 s, kube-controller-manager 55 s, the operator 92 s), and a client
# listed the tools 7.6 minutes after `git clone`. Said before a cold build so nobody waits without knowing.
COLD_BUILD_NOTICE = ("first run: building kube-apiserver, etcd, kube-controller-manager and the CloudNativePG "
                     "operator from the Go module proxy. On a 2-core machine this took about 6 minutes in all "
                     "(3 of them for kube-apiserver); it is cached in {cache}, and later starts take seconds.")


def cold_build_needed() -> bool:
    """Whether ensure_binaries/ensure_operator will build (the versioned cache is incomplete)."""
    pinned = versions()
    controlplane = cache_dir() / "controlplane" / f"{pinned['KUBERNETES_VERSION']}-{pinned['ETCD_VERSION']}"
    operator = cache_dir() / "operator" / pinned["CNPG_VERSION"] / "manager"
    return not operator.exists() or not all((controlplane / name).exists() for name in CONTROLPLANE_BINARIES)


def ensure_binaries() -> Path:
    """Run tools/controlplane/build.sh; return the directory holding etcd, kube-apiserver and
    kube-controller-manager.

    build.sh returns at once when the versioned cache directory is complete; otherwise a cold
    build takes minutes, so its progress lines are streamed to our stderr as they come.

    Raises:
        RuntimeError: Go is missing (with build.sh's instructions) or the build failed.
    """
    directory = Path(_build(BUILD_SCRIPT, "controlplane", "the local control plane"))
    missing = [name for name in CONTROLPLANE_BINARIES if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"{BUILD_SCRIPT} reported {directory} but it lacks {', '.join(missing)}")
    return directory


def ensure_operator() -> Path:
    """Run tools/operator/build.sh; return the path of the CloudNativePG `manager` binary."""
    binary = Path(_build(OPERATOR_BUILD_SCRIPT, "operator", "the CloudNativePG operator"))
    if not binary.is_file():
        raise RuntimeError(f"{OPERATOR_BUILD_SCRIPT} reported {binary}, which does not exist")
    return binary


def _build(script: Path, cache_name: str, what: str) -> str:
    """Run `script` under a lock; return the last line it printed on stdout."""
    lock_path = cache_dir() / cache_name / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # The build scripts write temporary files at fixed places in the cache: two concurrent
    # builds (two pytest runs, or `make run` next to a test run) would collide, so they take turns.
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _run_build(script, what)


def _run_build(script: Path, what: str) -> str:
    proc = subprocess.Popen(["bash", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress: list[str] = []

    def stream() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            progress.append(line)
            sys.stderr.write(line)
            sys.stderr.flush()

    # stderr is streamed on a thread while stdout (one line: the result) is read here,
    # so neither pipe can fill up and stall the build.
    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    returncode = proc.wait()
    streamer.join()
    text = "".join(progress).strip()
    if returncode == _EXIT_NO_GO:
        raise RuntimeError(f"cannot build {what} without Go:\n{text}")
    if returncode != 0:
        tail = "\n".join(text.splitlines()[-40:])
        raise RuntimeError(f"{script} failed with exit status {returncode}:\n{tail}")
    lines = out.strip().splitlines()
    if not lines:
        raise RuntimeError(f"{script} printed no result")
    return lines[-1]
