"""gunicorn with the shipped gunicorn.conf.py on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from devenv.process import free_port

ROOT = Path(__file__).resolve().parents[1]

# Settings variables are cleared so a developer's shell cannot change what a run sees.
_SETTING_PREFIXES = ("MCP_", "OIDC_", "DCR_", "KUBE", "GUNICORN_", "LOG_", "RATELIMIT_", "TOOL_CALL_", "TRUSTED_",
                     "AUTH_", "ACCESS_LOG", "METRICS_")


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SETTING_PREFIXES)}
    env.update(overrides)
    return env


class GunicornServer:
    """gunicorn -c gunicorn.conf.py serving `wsgi_target`; `extra_args` override the config file."""

    def __init__(self, wsgi_target: str = "tests.support.wsgi_test_tools:app", workers: int = 2, *,
                 port: int | None = None, extra_args: tuple[str, ...] = (), **env: str) -> None:
        """`port`: chosen in advance when something else must know the URL first (an IdP's resource)."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._wsgi_target = wsgi_target
        self._extra_args = list(extra_args)
        # LOG_LEVEL=WARNING unless the caller asks otherwise (e.g. INFO to read audit lines).
        self._env = clean_env(**{
            "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(workers), "LOG_LEVEL": "WARNING", **env
        })
        self._log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def worker_pids(self) -> list[int]:
        """The master's live children (its workers), from /proc."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return sorted(int(pid) for pid in children)

    def start(self, timeout: float = 60.0) -> GunicornServer:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *self._extra_args, self._wsgi_target],
            cwd=ROOT,
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self._proc.returncode}:\n{self.log_text()}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                # Not listening yet, or a worker still booting on a busy machine: keep waiting.
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gunicorn did not become healthy in {timeout}s:\n{self.log_text()}")

    def signal_term(self) -> None:
        """SIGTERM to the gunicorn master only (graceful shutdown), as Kubernetes would send."""
        os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self._proc is not None
        return self._proc.wait(timeout=timeout)

    def log_text(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
