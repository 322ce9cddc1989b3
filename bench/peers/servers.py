"""The peers as running processes, each on a free loopback port and stopped on exit.

    with KubeFront(cp, workdir) as front:
        kubeconfig = front.write_kubeconfig(workdir / "front.kubeconfig")
        with GoPeer(binary, kubeconfig, issuer, audience, workdir) as go:
            go.mcp_url  # http://127.0.0.1:<port>/mcp

Every server is one ManagedProcess (own session, log file in `workdir`), started on a port
free_port() picked (retried with a fresh port if another process took it first) and waited for
with generous ceilings: the machine may be busy.
"""

from __future__ import annotations

import base64
from pathlib import Path

import requests
import yaml

from devenv import cleanup, pki
from devenv.controlplane import LocalControlPlane
from devenv.process import ManagedProcess, ProcessExited, free_port, wait_until

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 120.0
_PORT_ATTEMPTS = 3
_PORT_TAKEN = ("address already in use", "EADDRINUSE", "Errno 98")


class _Peer:
    """One process on a loopback port; subclasses give its argv, env and readiness check."""

    name = "peer"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self._proc: ManagedProcess | None = None
        self._cleanup_key: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return {}

    def _cwd(self) -> Path | None:
        return None

    def _ready(self) -> bool:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Files the process reads, written once before the first attempt."""

    def start(self) -> _Peer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._cleanup_key = cleanup.register(self.stop)
        self._prepare()
        for attempt in range(_PORT_ATTEMPTS):
            self.port = free_port()
            self._proc = ManagedProcess(self.name, self._argv(), self.log_path, env=self._env(), cwd=self._cwd())
            self._proc.start()
            try:
                wait_until(self._ready, START_TIMEOUT, f"{self.name} on {self.url}", self._proc)
                return self
            except ProcessExited:
                if attempt + 1 < _PORT_ATTEMPTS and any(s in self._proc.log_tail() for s in _PORT_TAKEN):
                    continue
                self.stop()
                raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}") from None
            except TimeoutError as exc:
                self.stop()
                raise RuntimeError(f"{exc}:\n{self.log_tail()}") from None
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()
        cleanup.unregister(self._cleanup_key)
        self._cleanup_key = None

    def log_tail(self, lines: int = 60) -> str:
        return self._proc.log_tail(lines) if self._proc is not None else "(not started)"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class KubeFront(_Peer):
    """bench/peers/kubefront in front of the control plane's apiserver, sending everything on as `user`.

    kubernetes-mcp-server 0.0.67 with require_oauth forwards the caller's token to the apiserver
    (cluster_auth_mode "passthrough"; it refuses "kubeconfig" with require_oauth), which the local
    apiserver cannot verify. Every server of the peer comparison reaches the apiserver through this
    front, so all pay the same extra loopback hop and act as the same identity."""

    name = "kubefront"

    def __init__(self, binary: Path, controlplane: LocalControlPlane, workdir: Path, user: str = "admin") -> None:
        super().__init__(workdir)
        self.binary = binary
        self.controlplane = controlplane
        self.user = user
        self.ca_file = workdir / "kubefront-ca.crt"

    @property
    def host(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _prepare(self) -> None:
        ca = pki.make_ca("cnpg-mcp-bench-kubefront-ca")
        ca.write(self.ca_file, self.workdir / "kubefront-ca.key")
        pki.issue(ca, "kubefront", server=True, dns_names=("localhost",), ips=("127.0.0.1",)).write(
            self.workdir / "kubefront.crt", self.workdir / "kubefront.key")
        pki.write_private(self.workdir / "kubefront.token", self.controlplane.tokens[self.user].encode())

    def _argv(self) -> list[str]:
        w = self.workdir
        return [str(self.binary), f"--listen=127.0.0.1:{self.port}", f"--upstream={self.controlplane.host}",
                f"--upstream-ca={self.controlplane.ca_file}", f"--cert={w / 'kubefront.crt'}",
                f"--key={w / 'kubefront.key'}", f"--token-file={w / 'kubefront.token'}"]

    def _ready(self) -> bool:
        # Through the front to the apiserver and back, verified against the front's own CA.
        return requests.get(f"{self.host}/readyz", verify=str(self.ca_file), timeout=2).status_code == 200

    def requests_sent(self) -> int:
        """Requests sent on to the apiserver so far (its own counter; not counted itself)."""
        answer = requests.get(f"{self.host}/_kubefront/requests", verify=str(self.ca_file), timeout=10)
        answer.raise_for_status()
        return int(answer.text)

    def write_kubeconfig(self, path: Path, user: str = "admin") -> Path:
        """A kubeconfig for the front (its CA), with `user`'s token as the credential the client sends."""
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "front", "cluster": {
                "server": self.host, "certificate-authority-data": base64.b64encode(self.ca_file.read_bytes()).decode()}}],
            "users": [{"name": user, "user": {"token": self.controlplane.tokens[user]}}],
            "contexts": [{"name": "front", "context": {"cluster": "front", "user": user}}],
            "current-context": "front",
        }
        pki.write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
        return path


class GoPeer(_Peer):
    """containers/kubernetes-mcp-server: --stateless --read-only, OAuth from its TOML --config.

    require_oauth with authorization_url (the IdP's issuer: OIDC discovery, JWKS signature check)
    and oauth_audience (the `aud` every token must carry). The IdP is plain HTTP on loopback, so no
    CA is handed over (the server only warns that the authorization URL is not https)."""

    name = "kubernetes-mcp-server"

    def __init__(self, binary: Path, kubeconfig: Path, issuer: str, audience: str, workdir: Path) -> None:
        super().__init__(workdir)
        self.binary, self.kubeconfig, self.issuer, self.audience = binary, kubeconfig, issuer, audience
        self.config_file = workdir / "kubernetes-mcp-server.toml"

    def _prepare(self) -> None:
        self.config_file.write_text(
            "# kubernetes-mcp-server as bench/peers runs it: OAuth required, tokens checked against the local IdP.\n"
            "require_oauth = true\n"
            f"authorization_url = {_toml_string(self.issuer)}\n"
            f"oauth_audience = {_toml_string(self.audience)}\n"
        )

    def _argv(self) -> list[str]:
        return [str(self.binary), "--config", str(self.config_file), "--port", str(self.port),
                "--bind-address", "127.0.0.1", "--stateless", "--read-only", "--kubeconfig", str(self.kubeconfig),
                "--cluster-provider", "kubeconfig"]

    def _env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig)}

    def _cwd(self) -> Path | None:
        return self.workdir

    def _ready(self) -> bool:
        return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200


class SdkPeer(_Peer):
    """bench/peers/sdk_server.py (the mcp SDK's MCPServer) under uvicorn: 2 workers, uvloop, httptools."""

    name = "sdk-peer"
    workers = 2

    def __init__(self, python: Path, kubeconfig: Path, issuer: str, audience: str, workdir: Path) -> None:
        super().__init__(workdir)
        self.python, self.kubeconfig, self.issuer, self.audience = python, kubeconfig, issuer, audience

    def _argv(self) -> list[str]:
        # By file (--app-dir), from its own venv: neither app/ nor bench/ is importable there.
        return [str(self.python), "-m", "uvicorn", "--app-dir", str(HERE), "sdk_server:app",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]

    def _env(self) -> dict[str, str]:
        return {"SDK_PEER_ISSUER": self.issuer, "SDK_PEER_AUDIENCE": self.audience, "KUBECONFIG": str(self.kubeconfig),
                "PYTHONPATH": "", "PYTHONNOUSERSITE": "1"}

    def _cwd(self) -> Path | None:
        return self.workdir

    def _ready(self) -> bool:
        return requests.get(f"{self.url}/health", timeout=2).status_code == 200


def _toml_string(value: str) -> str:
    if any(c in value for c in '"\\\n'):
        raise ValueError(f"not a plain TOML string: {value!r}")
    return f'"{value}"'
