"""Integration fixtures: one real gunicorn (2 workers) for the whole session, and a real
local Kubernetes control plane (etcd + kube-apiserver + CloudNativePG CRDs, see devenv/)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import kubernetes
import pytest
from kubernetes.client.rest import ApiException

from devenv.controlplane import LocalControlPlane
from tests.support.processes import GunicornServer


@pytest.fixture(scope="session")
def server() -> Iterator[GunicornServer]:
    with GunicornServer() as running:
        yield running


@pytest.fixture(scope="session")
def controlplane() -> Iterator[LocalControlPlane]:
    """One etcd + kube-apiserver (with the CNPG CRDs) for the session, ~5 s to start.

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
    # Without kube-controller-manager a namespace stays Terminating forever: ask, never wait.
    try:
        core.delete_namespace(name)
    except ApiException:
        pass  # e.g. the apiserver is being restarted by a fault test; the control plane is throwaway
