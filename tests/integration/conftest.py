"""Integration fixtures: one real gunicorn (2 workers) for the whole session, a real local
Kubernetes control plane (etcd + kube-apiserver + CloudNativePG CRDs, see devenv/), a real
OpenID Provider (node oidc-provider, devenv/idp.py) and a real redis-server (devenv/redis.py)."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from devenv.controlplane import LocalControlPlane
from devenv.demo import seed_demo
from devenv.idp import LocalIdP
from devenv.kubelet_sim import wait_for
from devenv.redis import LocalRedis
from tests.support.manifests import K8S, apply, delete, load_kustomization
from tests.support.mcp_calls import ToolCaller, tool_caller
from tests.support.processes import GunicornServer


@pytest.fixture(scope="session")
def server(controlplane: LocalControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """gunicorn with the test tools, backed by the local control plane (a seeded `conformance/pg-demo`
    cluster) so resources, prompts and completions have something real to show."""
    kubeconfig = controlplane.write_kubeconfig(tmp_path_factory.mktemp("server") / "admin.yaml", user="admin")
    seed_demo(controlplane.api_client("admin"), namespace="conformance")
    with GunicornServer(KUBECONFIG=str(kubeconfig)) as running:
        yield running


@pytest.fixture(scope="session")
def controlplane() -> Iterator[LocalControlPlane]:
    """One control plane for the session: etcd, kube-apiserver, kube-controller-manager, the CNPG CRDs
    and the real CloudNativePG operator with its webhooks, ~7 s to start.

    The binaries are built on first use (minutes; CI builds them in an earlier, cached step
    with tools/controlplane/build.sh). Stopped at session end, on Ctrl-C and on SIGTERM.
    """
    with LocalControlPlane() as running:
        yield running


@pytest.fixture
def admin_api(controlplane: LocalControlPlane) -> Iterator[kubernetes.client.ApiClient]:
    """A client authenticated as `admin` (group system:masters): for setup and simulated operator effects."""
    with controlplane.api_client("admin") as client:
        yield client


@pytest.fixture
def namespace(admin_api: kubernetes.client.ApiClient) -> Iterator[str]:
    """A fresh namespace per test, so tests never see each other's objects."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core = kubernetes.client.CoreV1Api(admin_api)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    # kube-controller-manager empties and removes it in the background (the operator cleans up its
    # objects there too): ask, never wait, so a test does not pay for the teardown.
    try:
        core.delete_namespace(name)
    except ApiException:
        pass  # e.g. the apiserver is being restarted by a fault test; the control plane is throwaway


# ----- per-caller Kubernetes identities (k8s/rbac/impersonation) ---------------------------

@pytest.fixture
def impersonation_rbac(admin_api: kubernetes.client.ApiClient, controlplane: LocalControlPlane) -> Iterator[None]:
    try:
        kubernetes.client.CoreV1Api(admin_api).create_namespace({"metadata": {"name": "cnpg-mcp"}})
    except kubernetes.client.ApiException as exc:
        if exc.status != 409:
            raise
    objects = copy.deepcopy(load_kustomization(K8S / "rbac" / "impersonation"))
    apply(admin_api, objects)
    # The API server's RBAC authorizer learns of new bindings from a watch: on a busy machine it
    # can lag the create by a moment, so wait until the grant is in effect.
    authz = kubernetes.client.AuthorizationV1Api(controlplane.api_client("serviceaccount"))
    wait_for(lambda: authz.create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "impersonate", "resource": "users"}}}).status.allowed,
        "the impersonation RBAC to take effect")
    yield
    delete(admin_api, objects)


@pytest.fixture
def sa_kubeconfig(controlplane: LocalControlPlane, tmp_path: Path) -> Path:
    return controlplane.write_kubeconfig(tmp_path / "sa.yaml", user="serviceaccount")


# ----- identity provider and rate-limit storage (devenv/idp.py, devenv/redis.py) ----------

# A stable audience for auth tests: gunicorn can be configured with OIDC_AUDIENCE set to this
# before any port is known, and it is not the server's own URL, so nothing accepts it by accident.
IDP_RESOURCE = "https://mcp.example.test/mcp"


@pytest.fixture(scope="session")
def idp_factory() -> Iterator[Callable[..., LocalIdP]]:
    """Start extra LocalIdPs (e.g. another audience, or registration on); all closed at session end.

    Each takes ~0.5 s (node start + discovery); use the shared `idp` unless a test needs a
    different configuration, or will rotate keys or stop the IdP (which other tests would see).
    """
    started: list[LocalIdP] = []

    def start(resources: list[str], registration: bool = False, access_token_ttl: int = 300,
              **options: Any) -> LocalIdP:
        """`options`: LocalIdP's keyword-only ones (initial_access_token, advertise_registration, interactive)."""
        provider = LocalIdP(resources=resources, registration=registration, access_token_ttl=access_token_ttl,
                            **options)
        started.append(provider)
        return provider.start()

    yield start
    for provider in reversed(started):
        provider.close()


@pytest.fixture(scope="session")
def idp(idp_factory: Callable[..., LocalIdP]) -> LocalIdP:
    """The session's OpenID Provider: issuer idp.issuer, audience IDP_RESOURCE, no DCR.

    Shared: a test must not stop it or rotate its keys (start its own with `idp_factory`).
    """
    return idp_factory([IDP_RESOURCE])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    """One in-memory redis-server for the session (flask-limiter storage), ~0.1 s to start.

    Shared: tests should use their own key prefixes, and must not stop it (start a LocalRedis).
    """
    with LocalRedis() as running:
        yield running


@pytest.fixture(scope="session")
def kubeconfig(controlplane: LocalControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An admin kubeconfig for the session's control plane."""
    return controlplane.write_kubeconfig(tmp_path_factory.mktemp("kube") / "admin.yaml", user="admin")


@pytest.fixture
def tools(kubeconfig: Path) -> ToolCaller:
    """Tool calls through the real app, as admin, with default settings."""
    return tool_caller(kubeconfig)
