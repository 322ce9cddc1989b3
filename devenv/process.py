"""One long-running child process with its output in a log file, started in its own session."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from devenv import cleanup

STOP_GRACE_SECONDS = 10.0


def free_port() -> int:
    """A loopback port that was free a moment ago (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    # etcd reads ETCD_* variables as flags; a developer's shell must not change our etcd.
    return {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}


def wait_until(check: Callable[[], bool], timeout: float, what: str, proc: ManagedProcess | None = None) -> None:
    """Poll `check` every 0.1 s; fail fast if `proc` dies, with a TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and not proc.running:
            raise ProcessExited(f"{proc.name} exited with status {proc.returncode} while waiting for {what}")
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet (refused, TLS not ready, 5xx…); keep polling
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.1)


class ProcessExited(RuntimeError):
    """The child died during start-up."""


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """`env`: variables added to child_env(); `cwd`: the child's working directory."""
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._env = env or {}
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def start(self) -> None:
        # Append: a restarted apiserver keeps its earlier log for post-mortems.
        with open(self.log_path, "ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting {' '.join(self.argv)}\n".encode())
            log.flush()
            # Own session: a terminal Ctrl-C goes to us only, and we stop apiserver before etcd.
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**child_env(), **self._env},
                cwd=self._cwd,
                start_new_session=True,
            )

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds. Safe to call repeatedly."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        self._proc = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


class LocalServer:
    """Shared lifecycle of the single-process test servers (IdP, Redis, Keycloak): a work directory, one
    ManagedProcess, and cleanup registration. Subclasses set `_proc`, `workdir`, `_cleanup_key`."""

    _proc: ManagedProcess | None = None
    _cleanup_key: int | None = None
    workdir: Path | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        """Stop the process only (SIGTERM); start() brings it back on the same port."""
        if self._proc is not None:
            self._proc.stop()

    def close(self) -> None:
        """Stop the process and remove its directory. Idempotent."""
        self.stop()
        self._proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        cleanup.unregister(self._cleanup_key)
        self._cleanup_key = None
