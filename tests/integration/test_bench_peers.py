"""The benchmark's peer servers (bench/peers) really run, answer and refuse as the comparison assumes.

Each peer is started as `python -m bench` starts it, against the session's control plane and IdP:
kubernetes-mcp-server (the pinned Go release from npm) and the official SDK's MCPServer (its own
virtualenv). Both must list tools for a valid token and refuse (401) a missing token or one for
another audience, so the benchmark compares authenticated paths; both must read a seeded Cluster
through the kubefront in front of the apiserver. The downloads are cached (~/.cache/cnpg-mcp/peers):
the first run fetches about 25 MB from npm and builds a ~220 MB virtualenv from PyPI.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import requests
import yaml

from bench.fixtures import rpc, seed_clusters, tool_call
from bench.measure import jsonrpc_answer
from bench.peers import cache
from bench.peers.servers import GoPeer, KubeFront, SdkPeer
from devenv.controlplane import LocalControlPlane
from devenv.idp import LocalIdP
from tests.integration.conftest import IDP_RESOURCE

CLUSTER = "pg-000"


@pytest.fixture(scope="module")
def installed() -> cache.Installed:
    return cache.ensure_all()


@pytest.fixture(scope="module")
def seeded(controlplane: LocalControlPlane) -> Iterator[str]:
    """A namespace with one CNPG Cluster (pg-000) in it; its name."""
    namespace = f"peers-{uuid.uuid4().hex[:8]}"
    with controlplane.api_client("admin") as client:
        seed_clusters(client, namespace, 1, full_for=0)
    yield namespace
    with controlplane.api_client("admin") as client:
        try:
            kubernetes.client.CoreV1Api(client).delete_namespace(namespace)
        except kubernetes.client.ApiException:
            pass


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("peers")


@pytest.fixture(scope="module")
def front(installed: cache.Installed, controlplane: LocalControlPlane, workdir: Path) -> Iterator[KubeFront]:
    with KubeFront(installed.kubefront, controlplane, workdir) as running:
        yield running


@pytest.fixture(scope="module")
def front_kubeconfig(front: KubeFront, workdir: Path) -> Path:
    return front.write_kubeconfig(workdir / "front.kubeconfig")


@pytest.fixture(scope="module")
def go_peer(installed: cache.Installed, front_kubeconfig: Path, idp: LocalIdP, workdir: Path) -> Iterator[GoPeer]:
    with GoPeer(installed.go_server, front_kubeconfig, idp.issuer, IDP_RESOURCE, workdir) as running:
        yield running


@pytest.fixture(scope="module")
def sdk_peer(installed: cache.Installed, front_kubeconfig: Path, idp: LocalIdP, workdir: Path) -> Iterator[SdkPeer]:
    with SdkPeer(installed.sdk_python, front_kubeconfig, idp.issuer, IDP_RESOURCE, workdir) as running:
        yield running


@pytest.fixture(scope="module")
def token(idp: LocalIdP) -> str:
    return idp.token("mcp-client", scope="openid", resource=IDP_RESOURCE)


def _post(url: str, call: tuple[str, dict[str, str]], token: str | None) -> requests.Response:
    body, headers = call
    if token is not None:
        headers = {**headers, "Authorization": f"Bearer {token}"}
    return requests.post(url, data=body, headers=headers, timeout=60)


def _foreign_audience_token(idp: LocalIdP) -> str:
    """Signed with the IdP's own key and kid, valid in every way but its audience."""
    now = int(time.time())
    return idp.mint({"iss": idp.issuer, "sub": "mcp-client", "client_id": "mcp-client", "scope": "openid",
                     "aud": "https://another.example.test/mcp", "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex})


@pytest.fixture(params=["go", "sdk"])
def peer(request: pytest.FixtureRequest) -> GoPeer | SdkPeer:
    return request.getfixturevalue("go_peer" if request.param == "go" else "sdk_peer")


def test_the_peers_are_pinned_and_cached(installed: cache.Installed) -> None:
    assert installed.go_server.parent.name == f"kubernetes-mcp-server-{cache.GO_SERVER_VERSION}"
    assert installed.sdk_python.parents[1].name.startswith("sdk-")
    for artefact in (installed.go_server, installed.sdk_python, installed.kubefront):
        assert str(artefact).startswith(str(cache.peers_cache()))
    # A second call finds everything in the cache.
    again = cache.ensure_all()
    assert all(facts["cached"] for facts in again.fetched.values())


def test_a_peer_lists_its_tools_for_a_valid_token(peer: GoPeer | SdkPeer, token: str) -> None:
    response = _post(peer.mcp_url, rpc("tools/list"), token)

    assert response.status_code == 200, response.text[:500]
    tools = {tool["name"] for tool in jsonrpc_answer(response)["result"]["tools"]}
    assert ({"resources_get", "pods_list"} if isinstance(peer, GoPeer) else {"cluster_get", "echo", "add"}) <= tools


def test_a_peer_refuses_a_request_without_a_token(peer: GoPeer | SdkPeer) -> None:
    response = _post(peer.mcp_url, rpc("tools/list"), None)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_peer_refuses_a_token_for_another_audience(peer: GoPeer | SdkPeer, idp: LocalIdP) -> None:
    response = _post(peer.mcp_url, rpc("tools/list"), _foreign_audience_token(idp))

    assert response.status_code == 401


def test_the_go_peer_reads_the_seeded_cluster(go_peer: GoPeer, seeded: str, token: str) -> None:
    call = tool_call("resources_get", apiVersion="postgresql.cnpg.io/v1", kind="Cluster", namespace=seeded,
                     name=CLUSTER)
    response = _post(go_peer.mcp_url, call, token)

    assert response.status_code == 200, response.text[:500]
    result = jsonrpc_answer(response)["result"]
    assert not result.get("isError"), result
    cluster = yaml.safe_load(result["content"][0]["text"])
    assert (cluster["kind"], cluster["metadata"]["namespace"], cluster["metadata"]["name"]) == ("Cluster", seeded,
                                                                                               CLUSTER)


def test_the_sdk_peer_reads_the_seeded_cluster(sdk_peer: SdkPeer, seeded: str, token: str) -> None:
    response = _post(sdk_peer.mcp_url, tool_call("cluster_get", namespace=seeded, name=CLUSTER), token)

    assert response.status_code == 200, response.text[:500]
    result = jsonrpc_answer(response)["result"]
    assert not result.get("isError"), result
    assert result["structuredContent"]["metadata"]["name"] == CLUSTER
    assert result["structuredContent"]["kind"] == "Cluster"


def test_the_peers_listen_on_loopback_only(go_peer: GoPeer, sdk_peer: SdkPeer, front: KubeFront) -> None:
    listening = _listening_addresses()
    for port in (go_peer.port, sdk_peer.port, front.port):
        assert listening.get(port) == {"127.0.0.1"}, (port, listening.get(port))


def _listening_addresses() -> dict[int, set[str]]:
    """Port → local addresses of TCP sockets in LISTEN state (IPv4 and IPv6), from /proc/net."""
    found: dict[int, set[str]] = {}
    for table, ipv6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address, port = fields[1].split(":")
            found.setdefault(int(port, 16), set()).add(_address(address, ipv6))
    return found


def _address(hex_address: str, ipv6: bool) -> str:
    raw = bytes.fromhex(hex_address)
    if not ipv6:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # /proc stores IPv6 as four host-order 32-bit words.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def test_the_front_counts_the_api_calls_it_sends_on(front: KubeFront, sdk_peer: SdkPeer, seeded: str,
                                                     token: str) -> None:
    """The "API calls" column of the peers table: the SDK peer's cluster_get is one GET."""
    before = front.requests_sent()
    answers = [_post(sdk_peer.mcp_url, tool_call("cluster_get", namespace=seeded, name=CLUSTER), token)
               for _ in range(3)]
    after = front.requests_sent()
    counted_again = front.requests_sent()

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert after - before == 3
    assert counted_again == after  # asking for the count is not itself counted
