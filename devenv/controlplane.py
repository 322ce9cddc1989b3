"""LocalControlPlane: a real etcd + kube-apiserver on loopback, with TLS, RBAC and known identities,
and by default the CloudNativePG CRDs, kube-controller-manager and the real CloudNativePG operator
with its admission webhooks (devenv/operator.py).

No scheduler or kubelet, so no Pod ever runs: devenv/kubelet_sim.py stands in for what only a
kubelet and the instance manager inside a Pod would report. Flags follow envtest
(controller-runtime pkg/internal/testing/controlplane).
"""

from __future__ import annotations

import base64
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import requests
import yaml

from devenv import cleanup, pki
from devenv.binaries import ensure_binaries
from devenv.crds import crd_files, install_crds, volume_snapshot_crd_files
from devenv.operator import OPERATOR_GROUPS, OPERATOR_USERNAME, LocalOperator
from devenv.process import ManagedProcess, ProcessExited, free_port, wait_until

SA_NAMESPACE = "cnpg-mcp"
SA_NAME = "cnpg-mcp"
# tokens key → (username, groups) in the static token file. RBAC compares ServiceAccount
# subjects by username, so the static SA identity is bound exactly like a real SA token.
IDENTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ("system:masters",)),
    "serviceaccount": (
        f"system:serviceaccount:{SA_NAMESPACE}:{SA_NAME}",
        ("system:serviceaccounts", f"system:serviceaccounts:{SA_NAMESPACE}"),
    ),
    # The CloudNativePG operator runs as its release's ServiceAccount, bound by the release's RBAC.
    "operator": (OPERATOR_USERNAME, OPERATOR_GROUPS),
    "alice": ("alice", ()),
    "bob": ("bob", ()),
    "carol": ("carol", ()),
}
# Port collisions (free_port races another process) are retried with fresh ports.
_PORT_ATTEMPTS = 3
# What kube-controller-manager runs: what the CloudNativePG operator's objects rely on in a real
# cluster. The garbage collector deletes what a deleted Cluster owned; the namespace controller
# finishes namespace deletion; jobs, deployments and replica sets get their Pods (which stay
# Pending: no scheduler); the disruption controller reports on PodDisruptionBudgets; PVC
# protection lets deleted PVCs go.
CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "job-controller",
    "deployment-controller",
    "replicaset-controller",
    "disruption-controller",
    "persistentvolumeclaim-protection-controller",
)


class LocalControlPlane:
    """etcd + kube-apiserver in a temp dir; `with LocalControlPlane() as cp:` starts and stops it.

    Attributes after start(): host, ca_file, tokens (keys of IDENTITIES), admin_cert_file,
    admin_key_file, workdir, etcd_url, pids, timings (seconds per start-up phase).
    """

    def __init__(
        self,
        *,
        crds: bool = True,
        operator: bool | None = None,
        volume_snapshots: bool = True,
        bin_dir: Path | None = None,
        start_timeout: float = 120.0,
        verbose: bool = True,
        authentication_config: dict[str, Any] | None = None,
    ) -> None:
        """`crds=False`: etcd and kube-apiserver only. `operator` (default: with the CRDs) adds
        kube-controller-manager and the CloudNativePG operator with its webhooks. `volume_snapshots`
        installs the CSI VolumeSnapshot CRDs with the CloudNativePG ones (the operator then
        allows volumeSnapshot backups, as in a cluster with a CSI snapshotter).
        `authentication_config`: a structured AuthenticationConfiguration (apiserver.config.k8s.io/v1,
        e.g. a JWT issuer the API server trusts), given to kube-apiserver --authentication-config."""
        if operator and not crds:
            raise ValueError("the CloudNativePG operator needs the CRDs")
        self._crds = crds
        self._with_operator = crds if operator is None else operator
        self._volume_snapshots = volume_snapshots
        self._authentication_config = authentication_config
        self._bin_dir = bin_dir
        self._start_timeout = start_timeout
        self._verbose = verbose
        self._etcd: ManagedProcess | None = None
        self._apiserver: ManagedProcess | None = None
        self._controller_manager: ManagedProcess | None = None
        self.operator: LocalOperator | None = None
        self._cleanup_key: int | None = None
        self.workdir: Path | None = None
        self.host = ""
        self.etcd_url = ""
        self.tokens: dict[str, str] = {}
        self.timings: dict[str, float] = {}

    # ----- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> LocalControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalControlPlane:
        if self.workdir is not None:
            return self
        began = time.monotonic()
        bin_dir = self._bin_dir or ensure_binaries()
        self.workdir = Path(tempfile.mkdtemp(prefix="cnpg-mcp-cp-"))
        # Registered before any process exists: from here on exit/SIGTERM/SIGINT cleans up.
        self._cleanup_key = cleanup.register(self.stop)
        try:
            self._write_credentials()
            self._phase("etcd", lambda: self._start_etcd(bin_dir / "etcd"))
            self._phase("apiserver", lambda: self._start_first_apiserver(bin_dir / "kube-apiserver"))
            if self._crds:
                self._phase("crds", lambda: self._install_crds())
            if self._with_operator:
                self._phase("controller-manager", lambda: self._start_controller_manager(bin_dir / "kube-controller-manager"))
                self._phase("operator", self._start_operator)
        except BaseException as exc:
            logs = self._logs_for_error()
            self.stop()
            if isinstance(exc, Exception):
                raise RuntimeError(f"local control plane failed to start: {exc}\n{logs}") from exc
            raise
        self.timings["total"] = time.monotonic() - began
        self._say(
            f"control plane ready at {self.host} in {self.timings['total']:.1f}s ("
            + ", ".join(f"{k} {v:.1f}s" for k, v in self.timings.items() if k != "total")
            + ")"
        )
        return self

    def stop(self) -> None:
        """Stop the operator (its webhooks first), kube-controller-manager, kube-apiserver, then etcd
        (SIGTERM, SIGKILL after 10 s); remove the temp dir. Idempotent."""
        if self.operator is not None:
            self.operator.stop()
            self.operator = None
        for proc in (self._controller_manager, self._apiserver, self._etcd):
            if proc is not None:
                proc.stop()
        self._controller_manager = self._apiserver = self._etcd = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        cleanup.unregister(self._cleanup_key)
        self._cleanup_key = None

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver only (etcd and the data stay): the API becomes unreachable."""
        self._require_started()
        assert self._apiserver is not None
        self._apiserver.stop()

    def start_apiserver(self) -> None:
        """Start kube-apiserver again on the same port, etcd and certificates; wait until ready."""
        self._require_started()
        assert self._apiserver is not None
        if not self._apiserver.running:
            self._apiserver.start()
        try:
            self._wait_apiserver_ready()
        except Exception as exc:
            raise RuntimeError(f"kube-apiserver did not come back: {exc}\n{self._logs_for_error()}") from exc

    # ----- clients ---------------------------------------------------------------------

    def configuration(self, user: str = "admin") -> kubernetes.client.Configuration:
        """A client Configuration authenticating with `user`'s static bearer token."""
        self._require_started()
        if user not in self.tokens:
            raise ValueError(f"unknown user {user!r}; known: {', '.join(self.tokens)}")
        return kubernetes.client.Configuration(
            host=self.host,
            ssl_ca_cert=str(self.ca_file),
            api_key={"authorization": self.tokens[user]},
            api_key_prefix={"authorization": "Bearer"},
        )

    def api_client(self, user: str = "admin") -> kubernetes.client.ApiClient:
        return kubernetes.client.ApiClient(self.configuration(user))

    def write_kubeconfig(self, path: str | Path, user: str = "admin", context: str = "local") -> Path:
        """A self-contained kubeconfig (CA inline, `user`'s token) with one context, "local" by default.

        A named `context` also names its cluster and user entries (`<context>`, `<context>-<user>`),
        so several such files merge into one kubeconfig (KUBECONFIG=a:b) without clashing entries.
        """
        self._require_started()
        if user not in self.tokens:
            raise ValueError(f"unknown user {user!r}; known: {', '.join(self.tokens)}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        cluster, user_entry = (context, user) if context == "local" else (context, f"{context}-{user}")
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster,
                    "cluster": {
                        "server": self.host,
                        "certificate-authority-data": base64.b64encode(self.ca_file.read_bytes()).decode(),
                    },
                }
            ],
            "users": [{"name": user_entry, "user": {"token": self.tokens[user]}}],
            "contexts": [{"name": context, "context": {"cluster": cluster, "user": user_entry}}],
            "current-context": context,
        }
        # A token is a credential: owner-only, like ~/.kube/config.
        pki.write_private(path, yaml.safe_dump(config, sort_keys=False).encode())
        return path

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the running etcd, kube-apiserver, kube-controller-manager, the operator
        and its network-namespace relay (whose child it is), for leak checks in tests."""
        pids = {p.name: p.pid for p in self._processes() if p.running and p.pid}
        if self.operator is not None:
            for name, pid in (("cnpg-operator-netns", self.operator.relay_pid), ("cnpg-operator", self.operator.pid)):
                if pid:
                    pids[name] = pid
        return pids

    def _processes(self) -> list[ManagedProcess]:
        return [p for p in (self._etcd, self._apiserver, self._controller_manager) if p is not None]

    @property
    def ca_file(self) -> Path:
        """CA that signed the apiserver's serving certificate (verify TLS with it)."""
        return self._dir / "ca.crt"

    @property
    def admin_cert_file(self) -> Path:
        """Client certificate CN=admin, O=system:masters (signed by the separate client CA)."""
        return self._dir / "admin.crt"

    @property
    def admin_key_file(self) -> Path:
        return self._dir / "admin.key"

    # ----- internals -------------------------------------------------------------------

    @property
    def _dir(self) -> Path:
        self._require_started()
        assert self.workdir is not None
        return self.workdir

    @property
    def _cert_dir(self) -> Path:
        return self._dir / "certs"

    def _require_started(self) -> None:
        if self.workdir is None:
            raise RuntimeError("LocalControlPlane is not started")

    def _say(self, message: str) -> None:
        if self._verbose:
            print(f"devenv: {message}", file=sys.stderr, flush=True)

    def _phase(self, name: str, action: Callable[[], None]) -> None:
        began = time.monotonic()
        action()
        self.timings[name] = time.monotonic() - began

    def _write_credentials(self) -> None:
        d = self._dir
        self._cert_dir.mkdir()
        if self._authentication_config:
            (d / "authentication-config.yaml").write_text(yaml.safe_dump(self._authentication_config))
        ca = pki.make_ca("cnpg-mcp-local-ca")
        ca.write(d / "ca.crt", d / "ca.key")
        # --cert-dir is searched for apiserver.crt/.key when --tls-cert-file is unset.
        pki.issue(ca, "kube-apiserver", server=True, dns_names=("localhost",), ips=("127.0.0.1",)).write(
            self._cert_dir / "apiserver.crt", self._cert_dir / "apiserver.key"
        )
        # A separate client CA, so a serving certificate can never double as a client identity.
        client_ca = pki.make_ca("cnpg-mcp-local-client-ca")
        client_ca.write(d / "client-ca.crt", d / "client-ca.key")
        pki.issue(client_ca, "admin", organization="system:masters").write(d / "admin.crt", d / "admin.key")
        pki.write_service_account_keys(d / "sa.key", d / "sa.pub")
        self.tokens = {key: secrets.token_urlsafe(32) for key in IDENTITIES}
        # token,user,uid[,"group1,group2"]; system:authenticated is added by the apiserver.
        lines = []
        for key, (user, groups) in IDENTITIES.items():
            row = f"{self.tokens[key]},{user},{key}-uid"
            if groups:
                row += ',"' + ",".join(groups) + '"'
            lines.append(row)
        pki.write_private(d / "tokens.csv", ("\n".join(lines) + "\n").encode())

    def _start_etcd(self, binary: Path) -> None:
        for attempt in range(_PORT_ATTEMPTS):
            client, peer = free_port(), free_port()
            self.etcd_url = f"http://127.0.0.1:{client}"
            peer_url = f"http://127.0.0.1:{peer}"
            self._etcd = ManagedProcess(
                "etcd",
                [
                    str(binary),
                    "--name=default",
                    f"--data-dir={self._dir / 'etcd-data'}",
                    f"--listen-client-urls={self.etcd_url}",
                    f"--advertise-client-urls={self.etcd_url}",
                    f"--listen-peer-urls={peer_url}",
                    f"--initial-advertise-peer-urls={peer_url}",
                    f"--initial-cluster=default={peer_url}",
                    # Throwaway data: skipping fsync makes every write (and the tests) much faster.
                    "--unsafe-no-fsync",
                    "--log-level=warn",
                ],
                self._dir / "etcd.log",
            )
            self._etcd.start()
            try:
                wait_until(self._etcd_healthy, self._start_timeout, "etcd /health", self._etcd)
                return
            except ProcessExited:
                if attempt + 1 < _PORT_ATTEMPTS and "address already in use" in self._etcd.log_tail():
                    shutil.rmtree(self._dir / "etcd-data", ignore_errors=True)
                    continue
                raise

    def _etcd_healthy(self) -> bool:
        response = requests.get(f"{self.etcd_url}/health", timeout=2)
        return response.status_code == 200 and response.json().get("health") == "true"

    def _apiserver_argv(self, binary: Path, port: int) -> list[str]:
        d = self._dir
        return [
            str(binary),
            f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            # Unset, it picks a host interface (and fails without a default route).
            "--advertise-address=127.0.0.1",
            # No kubernetes Service endpoints to reconcile: nothing runs in this "cluster".
            "--endpoint-reconciler-type=none",
            f"--cert-dir={self._cert_dir}",
            f"--client-ca-file={d / 'client-ca.crt'}",
            f"--token-auth-file={d / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            # 1.34+ refuses to start without an issuer and a signing key (TokenRequest works).
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={d / 'sa.pub'}",
            f"--service-account-signing-key-file={d / 'sa.key'}",
            "--service-cluster-ip-range=10.0.0.0/16",
            # No controller creates the per-namespace default ServiceAccount the plugin requires.
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            "--profiling=false",
            # One client (tests) only: APF's queues add nothing but start-up work.
            "--enable-priority-and-fairness=false",
            "--v=1",
            *([f"--authentication-config={d / 'authentication-config.yaml'}"] if self._authentication_config else []),
        ]

    def _start_first_apiserver(self, binary: Path) -> None:
        for attempt in range(_PORT_ATTEMPTS):
            port = free_port()
            self.host = f"https://127.0.0.1:{port}"
            self._apiserver = ManagedProcess(
                "kube-apiserver", self._apiserver_argv(binary, port), self._dir / "kube-apiserver.log"
            )
            self._apiserver.start()
            try:
                self._wait_apiserver_ready()
                break
            except ProcessExited:
                if attempt + 1 < _PORT_ATTEMPTS and "address already in use" in self._apiserver.log_tail():
                    continue
                raise
        # The bootstrap controller inside the apiserver creates "default" shortly after /readyz.
        with self.api_client() as client:
            core = kubernetes.client.CoreV1Api(client)
            wait_until(lambda: core.read_namespace("default") is not None, self._start_timeout, "namespace default")

    def _wait_apiserver_ready(self) -> None:
        assert self._apiserver is not None

        def ready() -> bool:
            # Verified against our CA: proves the serving certificate is the one we made.
            return requests.get(f"{self.host}/readyz", verify=str(self.ca_file), timeout=2).status_code == 200

        wait_until(ready, self._start_timeout, "kube-apiserver /readyz", self._apiserver)

    def _install_crds(self) -> None:
        self._say("installing the CloudNativePG CRDs" + (" and the VolumeSnapshot CRDs..." if self._volume_snapshots else "..."))
        files = crd_files() + (volume_snapshot_crd_files() if self._volume_snapshots else [])
        with self.api_client() as client:
            install_crds(client, files)

    def _start_controller_manager(self, binary: Path) -> None:
        kubeconfig = self.write_kubeconfig(self._dir / "controller-manager.kubeconfig", user="admin")
        for attempt in range(_PORT_ATTEMPTS):
            port = free_port()
            self._controller_manager = ManagedProcess(
                "kube-controller-manager",
                [
                    str(binary),
                    f"--kubeconfig={kubeconfig}",
                    f"--controllers={','.join(CONTROLLERS)}",
                    "--leader-elect=false",
                    # Serves only its health checks here (anonymous /healthz is always allowed).
                    "--bind-address=127.0.0.1",
                    f"--secure-port={port}",
                    f"--cert-dir={self._dir / 'controller-manager-certs'}",
                    # It runs every controller as admin: it is the cluster itself, not under test.
                    "--use-service-account-credentials=false",
                    "--v=1",
                ],
                self._dir / "kube-controller-manager.log",
            )
            self._controller_manager.start()

            def healthy(port: int = port) -> bool:
                # It serves a self-signed certificate it writes into --cert-dir at start.
                cert = self._dir / "controller-manager-certs" / "kube-controller-manager.crt"
                return requests.get(f"https://127.0.0.1:{port}/healthz", verify=str(cert), timeout=2).status_code == 200

            try:
                wait_until(healthy, self._start_timeout, "kube-controller-manager /healthz", self._controller_manager)
                return
            except ProcessExited:
                if attempt + 1 < _PORT_ATTEMPTS and "address already in use" in self._controller_manager.log_tail():
                    continue
                raise

    def _start_operator(self) -> None:
        self._say("starting the CloudNativePG operator and its webhooks...")
        port = int(self.host.rsplit(":", 1)[1])
        self.operator = LocalOperator(
            workdir=self._dir,
            kubeconfig=self.write_kubeconfig(self._dir / "operator.kubeconfig", user="operator"),
            apiserver_port=port,
            admin=self.api_client,
            start_timeout=self._start_timeout,
            say=self._say,
        )
        self.operator.start()

    def _logs_for_error(self) -> str:
        parts = []
        for proc in self._processes():
            parts.append(f"--- {proc.name} log ({proc.log_path}), last lines ---\n{proc.log_tail()}")
        if self.operator is not None:
            parts.append(f"--- cnpg-operator log ({self.operator.log_path}), last lines ---\n{self.operator.log_tail()}")
        return "\n".join(parts)
