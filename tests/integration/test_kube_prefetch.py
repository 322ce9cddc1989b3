"""Independent reads in flight together (KubeSession.prefetch), against the real API server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.kube import KubeSession, cnpg, resources
from app.kube.errors import NotFound
from app.settings import Settings
from devenv.demo import seed_demo
from tests.support.tools import kube_session


@pytest.fixture
def kube(kubeconfig: Path) -> KubeSession:
    return kube_session(Settings.from_env({"KUBECONFIG": str(kubeconfig), "KUBE_TIMEOUT_SECONDS": "5"}))


def test_a_prefetched_read_returns_what_the_same_read_returns_directly(kube: KubeSession, admin_api, namespace: str) -> None:
    seed_demo(admin_api, namespace)
    ahead = kube.prefetch(lambda: resources.list_pods(kube, namespace, "cnpg.io/cluster=pg-demo"))
    direct = resources.list_pods(kube, namespace, "cnpg.io/cluster=pg-demo")
    names = sorted(p["metadata"]["name"] for p in ahead.result(timeout=10))
    assert names == sorted(p["metadata"]["name"] for p in direct)
    # The operator's first instance and the pod of its initdb Job (named by the job controller).
    assert names[0] == "pg-demo-1" and [n.startswith("pg-demo-1-initdb-") for n in names[1:]] == [True]


def test_a_prefetched_read_runs_on_another_thread_while_the_caller_works(kube: KubeSession, namespace: str) -> None:
    caller = threading.get_ident()
    seen: list[int] = []

    def read() -> list:
        seen.append(threading.get_ident())
        return resources.list_events(kube, namespace, "Cluster", "pg-demo")

    assert kube.prefetch(read).result(timeout=10) == []
    assert seen and seen[0] != caller


def test_a_prefetched_failure_surfaces_as_the_domain_error_when_collected(kube: KubeSession) -> None:
    ahead = kube.prefetch(lambda: kube.get(cnpg.CLUSTER, "no-such-namespace-x", "ghost"))
    with pytest.raises(NotFound) as caught:
        ahead.result(timeout=10)
    assert "ghost" in str(caught.value)
