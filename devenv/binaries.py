"""Build (first time only) and locate the etcd and kube-apiserver binaries."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import threading
from pathlib import Path

from devenv.paths import CONTROLPLANE_TOOLS, cache_dir

BUILD_SCRIPT = CONTROLPLANE_TOOLS / "build.sh"
# build.sh's exit status when Go is not installed; its stderr then says how to get Go.
_EXIT_NO_GO = 3


def ensure_binaries() -> Path:
    """Run tools/controlplane/build.sh and return the directory holding `etcd` and `kube-apiserver`.

    build.sh returns at once when the versioned cache directory is complete; otherwise a cold
    build takes minutes, so its progress lines are streamed to our stderr as they come.

    Raises:
        RuntimeError: Go is missing (with build.sh's instructions) or the build failed.
    """
    lock_path = cache_dir() / "controlplane" / ".build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # build.sh writes into one fixed <dir>.tmp: two concurrent builds (two pytest runs, or
    # `make run` next to a test run) would corrupt each other, so they take turns.
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _run_build()


def _run_build() -> Path:
    proc = subprocess.Popen(
        ["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    progress: list[str] = []

    def stream() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            progress.append(line)
            sys.stderr.write(line)
            sys.stderr.flush()

    # stderr is streamed on a thread while stdout (one line: the directory) is read here,
    # so neither pipe can fill up and stall the build.
    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    returncode = proc.wait()
    streamer.join()
    text = "".join(progress).strip()
    if returncode == _EXIT_NO_GO:
        raise RuntimeError(f"cannot build the local control plane without Go:\n{text}")
    if returncode != 0:
        tail = "\n".join(text.splitlines()[-40:])
        raise RuntimeError(f"{BUILD_SCRIPT} failed with exit status {returncode}:\n{tail}")
    directory = Path(out.strip().splitlines()[-1])
    missing = [name for name in ("etcd", "kube-apiserver") if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"{BUILD_SCRIPT} reported {directory} but it lacks {', '.join(missing)}")
    return directory
