"""LocalRedis: Debian's redis-server on loopback, for flask-limiter's shared storage in tests.

In-memory only (no RDB snapshots, no AOF): a test run leaves nothing on disk and every start
is empty. stop()/start() end and restart the process on the same port, which simulates a
storage outage and its recovery; close() (or leaving the `with`) removes everything.

    with LocalRedis() as redis_server:
        RATELIMIT_STORAGE_URI = redis_server.url    # redis://127.0.0.1:<port>/0
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from devenv import cleanup
from devenv.process import LocalServer, ManagedProcess, ProcessExited, free_port, wait_until

# Port collisions (free_port races another process) are retried with fresh ports on first start.
_PORT_ATTEMPTS = 3


def redis_server_binary() -> str:
    """redis-server from PATH or Debian's /usr/bin; tests do not download servers."""
    found = shutil.which("redis-server")
    if found is None and Path("/usr/bin/redis-server").is_file():
        found = "/usr/bin/redis-server"  # PATH may lack /usr/bin in a stripped-down environment
    if found is None:
        raise RuntimeError(
            "redis-server is not installed; .ci/run installs it with "
            "`apt-get update && apt-get install -y redis-server` (Debian package redis-server)"
        )
    return found


def ping(port: int, timeout: float = 1.0) -> bool:
    """True if a Redis server on 127.0.0.1:`port` answers PING with +PONG.

    A raw RESP inline command: the readiness check needs no client library, so the harness
    works whether or not the `redis` package is installed.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"PING\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(64)
            if not chunk:
                break
            reply += chunk
    return reply == b"+PONG\r\n"


class LocalRedis(LocalServer):
    """redis-server on redis://127.0.0.1:<port>/0; `with LocalRedis() as r:` starts and closes it.

    Attributes: port, url, workdir, timings (seconds: "first_start", "start" = most recent start).
    """

    def __init__(self, *, start_timeout: float = 15.0, verbose: bool = True) -> None:
        self._start_timeout = start_timeout
        self._verbose = verbose
        self._proc: ManagedProcess | None = None
        self._cleanup_key: int | None = None
        self.workdir: Path | None = None
        self.port = 0
        self.timings: dict[str, float] = {}

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.running

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    def ping(self) -> bool:
        return ping(self.port)

    def start(self) -> LocalRedis:
        """First call: pick a port and start. Later calls (after stop()): restart on the same port."""
        if self.workdir is None:
            self._first_start()
        elif self._proc is not None and not self._proc.running:
            try:
                self._run_and_wait()
            except Exception as exc:
                raise RuntimeError(f"redis-server did not come back on port {self.port}: {exc}\n{self._log()}") from exc
            self._say(f"redis-server restarted on {self.url} in {self.timings['start']:.2f}s")
        return self


    # ----- internals -------------------------------------------------------------------

    def _say(self, message: str) -> None:
        if self._verbose:
            print(f"devenv: {message}", file=sys.stderr, flush=True)

    def _first_start(self) -> None:
        began = time.monotonic()
        binary = redis_server_binary()
        self.workdir = Path(tempfile.mkdtemp(prefix="cnpg-mcp-redis-"))
        # Registered before any process exists: from here on exit/SIGTERM/SIGINT cleans up.
        self._cleanup_key = cleanup.register(self.close)
        try:
            for attempt in range(_PORT_ATTEMPTS):
                self.port = free_port()
                self._proc = ManagedProcess("redis-server", self._argv(binary), self.workdir / "redis.log")
                try:
                    self._run_and_wait()
                    break
                except ProcessExited:
                    if attempt + 1 < _PORT_ATTEMPTS and "Address already in use" in self._proc.log_tail():
                        continue
                    raise
        except BaseException as exc:
            log = self._log()
            self.close()
            if isinstance(exc, Exception):
                raise RuntimeError(f"local redis-server failed to start: {exc}\n{log}") from exc
            raise
        self.timings["first_start"] = time.monotonic() - began
        self._say(f"redis-server ready at {self.url} in {self.timings['first_start']:.2f}s")

    def _argv(self, binary: str) -> list[str]:
        assert self.workdir is not None
        return [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            # Throwaway data: no RDB snapshot, no append-only file, nothing written to disk.
            "--save", "",
            "--appendonly", "no",
            # Refuses non-loopback clients while no password is set (defence in depth with --bind).
            "--protected-mode", "yes",
            # Anything Redis still wants to write (it should be nothing) lands in our temp dir.
            "--dir", str(self.workdir),
        ]  # fmt: skip

    def _run_and_wait(self) -> None:
        assert self._proc is not None
        began = time.monotonic()
        self._proc.start()
        wait_until(self.ping, self._start_timeout, f"redis-server PING on port {self.port}", self._proc)
        self.timings["start"] = time.monotonic() - began

    def _log(self) -> str:
        if self._proc is None:
            return ""
        return f"--- redis-server log ({self._proc.log_path}), last lines ---\n{self._proc.log_tail()}"
