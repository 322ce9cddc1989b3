"""LocalOperator: the real CloudNativePG operator (its `manager controller`) next to the local apiserver.

Everything it needs comes from the pinned module (tools/controlplane/versions.env CNPG_VERSION):
the binary is built from it (tools/operator/build.sh), and its Namespace, ServiceAccount, RBAC,
monitoring ConfigMap and webhook configurations are the objects of the module's own release
manifest (`releases/cnpg-<version>.yaml`). Only two things differ from an in-cluster install,
both because no Pod can run here:

- **Where the webhooks are.** The release's webhooks call Service `cnpg-webhook-service`; here
  each `clientConfig` becomes `url: https://127.0.0.1:<port><path>` with our CA as `caBundle`,
  and the operator serves a harness-made certificate (SAN IP 127.0.0.1) from WEBHOOK_CERT_DIR
  (the OLM path of `ensurePKI` in internal/cmd/manager/controller/controller.go), so it skips
  the PKI that would need its Deployment.
- **Its network.** Its webhook server has no host flag and listens on every interface, so it
  runs in a private network namespace (devenv/netns.py) whose only interface is loopback;
  relays join the webhook and metrics ports to the host's 127.0.0.1 and the apiserver's port
  the other way.

It runs as its own ServiceAccount identity (`system:serviceaccount:cnpg-system:cnpg-manager`,
bound by the release's ClusterRoleBinding), never as admin, with leader election off.
Start order matters: the webhook configurations are registered only once the webhook server
answers, and removed before the operator stops: with `failurePolicy: Fail` and no operator,
every write of a CloudNativePG object would be refused ("connection refused").
"""

from __future__ import annotations

import base64
import copy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import requests
import yaml
from kubernetes.client.rest import ApiException

from devenv import pki
from devenv.binaries import ensure_operator
from devenv.crds import module_dir
from devenv.netns import check_supported
from devenv.process import ManagedProcess, ProcessExited, free_port, wait_until
from devenv.paths import versions

NAMESPACE = "cnpg-system"
SERVICE_ACCOUNT = "cnpg-manager"
OPERATOR_USERNAME = f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
OPERATOR_GROUPS = ("system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}")
# The release's Deployment passes these names; the operator reads both when they exist.
CONFIG_NAME = "cnpg-controller-manager-config"
MONITORING_CONFIGMAP = "cnpg-default-monitoring"
# Operator settings the harness chooses (keys as in internal/configuration/configuration.go).
OPERATOR_CONFIG = {
    # The release default; named so the ConfigMap path of loadConfiguration is exercised.
    "KUBERNETES_CLUSTER_DOMAIN": "cluster.local",
}
# Objects of the release manifest this harness creates (no Deployment or Service: no Pod runs).
_RELEASE_KINDS = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap")
_WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def release_manifest() -> list[dict[str, Any]]:
    """Every object of the pinned release's manifest (CRDs included), as dicts."""
    version = versions()["CNPG_VERSION"].removeprefix("v")
    path = module_dir() / "releases" / f"cnpg-{version}.yaml"
    with open(path) as handle:
        return [doc for doc in yaml.load_all(handle, Loader=_Loader) if doc]


def webhook_configurations(manifest: list[dict[str, Any]], port: int, ca_pem: bytes) -> list[dict[str, Any]]:
    """The release's webhook configurations, each webhook calling https://127.0.0.1:<port><path>."""
    bundle = base64.b64encode(ca_pem).decode()
    configurations = []
    for doc in manifest:
        if doc["kind"] not in _WEBHOOK_KINDS:
            continue
        doc = copy.deepcopy(doc)
        for hook in doc["webhooks"]:
            path = hook["clientConfig"]["service"].get("path", "/")
            hook["clientConfig"] = {"url": f"https://127.0.0.1:{port}{path}", "caBundle": bundle}
        configurations.append(doc)
    if len(configurations) != 2:
        raise RuntimeError(f"expected a mutating and a validating webhook configuration, found {len(configurations)}")
    return configurations


class LocalOperator:
    """The operator of one LocalControlPlane; `start()` after the CRDs exist, `stop()` before the apiserver."""

    def __init__(
        self,
        *,
        workdir: Path,
        kubeconfig: Path,
        apiserver_port: int,
        admin: Callable[[], kubernetes.client.ApiClient],
        start_timeout: float = 120.0,
        say: Callable[[str], None] = lambda message: None,
    ) -> None:
        """`kubeconfig`: the operator's own identity (OPERATOR_USERNAME); `admin`: a client factory for set-up."""
        self._workdir = workdir
        self._kubeconfig = kubeconfig
        self._apiserver_port = apiserver_port
        self._admin = admin
        self._start_timeout = start_timeout
        self._say = say
        self._proc: ManagedProcess | None = None
        self._manifest: list[dict[str, Any]] = []
        self._webhooks: list[dict[str, Any]] = []
        self.webhook_port = 0
        self.metrics_port = 0
        self.timings: dict[str, float] = {}

    @property
    def ca_file(self) -> Path:
        """CA of the webhook server's certificate."""
        return self._workdir / "webhook-ca.crt"

    @property
    def relay_pid(self) -> int | None:
        """The network-namespace relay's pid (devenv/netns.py); the operator is its only child."""
        return self._proc.pid if self._proc is not None and self._proc.running else None

    @property
    def pid(self) -> int | None:
        """The operator's own pid (the `manager controller` process inside the namespace)."""
        relay = self.relay_pid
        if relay is None:
            return None
        try:
            children = Path(f"/proc/{relay}/task/{relay}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    @property
    def log_path(self) -> Path:
        return self._workdir / "cnpg-operator.log"

    def start(self) -> LocalOperator:
        unsupported = check_supported()
        if unsupported is not None:
            raise RuntimeError(
                "the CloudNativePG operator runs in a private network namespace (its webhook server "
                f"listens on every interface) and this process cannot create one: {unsupported}. "
                "Run as root or with CAP_SYS_ADMIN."
            )
        began = time.monotonic()
        binary = ensure_operator()
        self.timings["build"] = time.monotonic() - began
        self._manifest = release_manifest()
        with self._admin() as client:
            self._install_release_objects(client)
        self._write_certificates()
        self._start_process(binary)
        with self._admin() as client:
            self._register_webhooks(client)
        self.timings["total"] = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Remove the webhook configurations (if the apiserver answers), then stop the operator. Idempotent."""
        if self._webhooks:
            try:
                with self._admin() as client:
                    self._delete_webhooks(client)
            except Exception as exc:  # noqa: BLE001 - the apiserver may already be gone; etcd goes with it
                print(f"devenv: could not remove the CloudNativePG webhooks: {exc!r}", file=sys.stderr)
            self._webhooks = []
        if self._proc is not None:
            self._proc.stop()
            self._proc = None

    def kill_process(self) -> None:
        """Stop the operator but keep its webhook configurations registered: what the API server sees
        while the operator is down (every write it validates then fails to reach it)."""
        if self._proc is not None:
            self._proc.stop()

    def restart_process(self) -> None:
        """Start the operator again after kill_process (on fresh ports, re-pointing its webhooks)."""
        self._start_process(ensure_operator())
        with self._admin() as client:
            self._register_webhooks(client)

    def log_tail(self, lines: int = 60) -> str:
        return self._proc.log_tail(lines) if self._proc is not None else "(not started)"

    # ----- internals -------------------------------------------------------------------

    def _install_release_objects(self, client: kubernetes.client.ApiClient) -> None:
        dynamic = _Creator(client)
        for doc in self._manifest:
            if doc["kind"] in _RELEASE_KINDS:
                dynamic.create(doc)
        dynamic.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": CONFIG_NAME, "namespace": NAMESPACE},
                "data": OPERATOR_CONFIG,
            }
        )

    def _write_certificates(self) -> None:
        certs = self._workdir / "webhook-certs"
        certs.mkdir(exist_ok=True)
        ca = pki.make_ca("cnpg-mcp-webhook-ca")
        ca.write(self.ca_file, self._workdir / "webhook-ca.key")
        # The names the operator looks for when WEBHOOK_CERT_DIR is set (OLM's convention).
        pki.issue(ca, "cnpg-webhook", server=True, ips=("127.0.0.1",)).write(
            certs / "apiserver.crt", certs / "apiserver.key"
        )

    def _start_process(self, binary: Path) -> None:
        # DetectAvailableArchitectures globs operator/manager_* in the working directory (the
        # image ships the instance manager per architecture there); without one every status
        # update fails with "invalid architecture".
        arch_dir = self._workdir / "operator-root" / "operator"
        arch_dir.mkdir(parents=True, exist_ok=True)
        target = arch_dir / "manager_amd64"
        if not target.exists():
            target.symlink_to(binary)
        for attempt in range(3):
            self.webhook_port, self.metrics_port = free_port(), free_port()
            argv = [
                sys.executable, "-m", "devenv.netns",
                f"--inbound={self.webhook_port}", f"--inbound={self.metrics_port}",
                f"--outbound={self._apiserver_port}",
                "--",
                str(binary), "controller",
                "--leader-elect=false",
                f"--webhook-port={self.webhook_port}",
                f"--metrics-bind-address=127.0.0.1:{self.metrics_port}",
                f"--config-map-name={CONFIG_NAME}",
                f"--secret-name={CONFIG_NAME}",
                "--max-concurrent-reconciles=4",
                "--log-level=info",
            ]  # fmt: skip
            self._proc = ManagedProcess(
                "cnpg-operator",
                argv,
                self.log_path,
                cwd=arch_dir.parent,
                env={
                    "KUBECONFIG": str(self._kubeconfig),
                    "OPERATOR_NAMESPACE": NAMESPACE,
                    "OPERATOR_IMAGE_NAME": f"ghcr.io/cloudnative-pg/cloudnative-pg:{versions()['CNPG_VERSION'].removeprefix('v')}",
                    "MONITORING_QUERIES_CONFIGMAP": MONITORING_CONFIGMAP,
                    "WEBHOOK_CERT_DIR": str(self._workdir / "webhook-certs"),
                    "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                },
            )
            self._proc.start()
            began = time.monotonic()
            try:
                wait_until(self._webhook_ready, self._start_timeout, "CloudNativePG webhook server /readyz", self._proc)
                self.timings["webhook server"] = time.monotonic() - began
                return
            except ProcessExited:
                if attempt < 2 and "address already in use" in self._proc.log_tail():
                    continue
                raise

    def _webhook_ready(self) -> bool:
        response = requests.get(
            f"https://127.0.0.1:{self.webhook_port}/readyz", verify=str(self.ca_file), timeout=2
        )
        return response.status_code == 200

    def _register_webhooks(self, client: kubernetes.client.ApiClient) -> None:
        began = time.monotonic()
        self._webhooks = webhook_configurations(self._manifest, self.webhook_port, self.ca_file.read_bytes())
        creator = _Creator(client)
        for doc in self._webhooks:
            creator.replace(doc)
        # The apiserver picks up webhook configurations from a watch: wait until a request that
        # only the operator's validating webhook refuses is refused, so the first test sees it.
        wait_until(lambda: _webhook_refuses(client), self._start_timeout, "the CloudNativePG webhooks to take effect", self._proc)
        self.timings["webhooks"] = time.monotonic() - began

    def _delete_webhooks(self, client: kubernetes.client.ApiClient) -> None:
        api = kubernetes.client.AdmissionregistrationV1Api(client)
        for doc in self._webhooks:
            delete = (
                api.delete_mutating_webhook_configuration
                if doc["kind"] == "MutatingWebhookConfiguration"
                else api.delete_validating_webhook_configuration
            )
            try:
                delete(doc["metadata"]["name"], _request_timeout=5)
            except ApiException as exc:
                if exc.status != 404:
                    raise


def _webhook_refuses(client: kubernetes.client.ApiClient) -> bool:
    """True once a server-side dry run of a Cluster only the webhook rejects is rejected by it."""
    probe = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "webhook-probe", "namespace": "default"},
        # The CRD schema accepts this; CloudNativePG's validation refuses a fixed parameter.
        "spec": {"instances": 1, "storage": {"size": "1Gi"}, "postgresql": {"parameters": {"listen_addresses": "*"}}},
    }
    try:
        kubernetes.client.CustomObjectsApi(client).create_namespaced_custom_object(
            "postgresql.cnpg.io", "v1", "default", "clusters", probe, dry_run="All", _request_timeout=10
        )
    except ApiException as exc:
        return exc.status in (400, 403, 422) and "listen_addresses" in (exc.body or "")
    return False


class _Creator:
    """Create (or replace) plain manifest objects through the dynamic client."""

    def __init__(self, client: kubernetes.client.ApiClient) -> None:
        from kubernetes.dynamic import DynamicClient

        self._dynamic = DynamicClient(client)

    def _resource(self, doc: dict[str, Any]) -> Any:
        return self._dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])

    def create(self, doc: dict[str, Any]) -> None:
        namespace = doc["metadata"].get("namespace")
        try:
            self._resource(doc).create(body=doc, namespace=namespace)
        except ApiException as exc:
            if exc.status != 409:
                raise

    def replace(self, doc: dict[str, Any]) -> None:
        resource = self._resource(doc)
        try:
            resource.create(body=doc)
        except ApiException as exc:
            if exc.status != 409:
                raise
            current = resource.get(name=doc["metadata"]["name"])
            doc = {**doc, "metadata": {**doc["metadata"], "resourceVersion": current.metadata.resourceVersion}}
            resource.replace(body=doc)

