"""The peer comparison: ours, kubernetes-mcp-server and the SDK's MCPServer, same IdP, same
control plane, same wrk, in the same interleaved rounds.

Cases (each server gets the JSON-RPC body and headers it needs; all three take the same bare
`tools/list` in stateless mode, no `initialize` first, with Accept: application/json,
text/event-stream, which the Go server requires in full):
  tools/list          authenticated (RS256 bearer from the IdP), at 16 and 64 connections
  Cluster GET         one CNPG Cluster with one API call, at 16 connections: ours `resources/read`
                      of cnpg://<ns>/clusters/<name>, the Go server's generic `resources_get`, the
                      SDK peer's `cluster_get`
  cluster_get (full)  ours only, at 16 connections: the Cluster plus its pods and events, what a
                      model asks for to diagnose (compared with the Go server's single GET)
  list 500 Clusters   at 4 connections: ours `cluster_list` (a summary per cluster), the Go
                      server's `resources_list` (the objects); the SDK peer has no list tool
All three reach the apiserver through the same KubeFront (servers.py says why), which also counts
the API calls each kind of call makes (sequential calls after warm-up, in the "API calls" column).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench import report, rounds
import requests

from bench.fixtures import LARGE, RESOURCE, SMALL, TARGET, rpc, tool_call
from bench.peers import cache
from bench.peers.servers import GoPeer, KubeFront, SdkPeer
from devenv.controlplane import LocalControlPlane
from devenv.gunicorn import GunicornServer
from devenv.idp import LocalIdP

OURS = "ours"
GO = "kubernetes-mcp-server"
SDK = "sdk-mcpserver"
PEERS = (GO, SDK)
DESCRIPTIONS = {
    OURS: "cnpg-mcp-server (this repository): gunicorn, 2 workers x 8 threads, shipped gunicorn.conf.py",
    GO: f"containers/kubernetes-mcp-server {cache.GO_SERVER_VERSION} (npm {cache.GO_SERVER_PACKAGE}): "
        "--stateless --read-only, require_oauth + authorization_url + oauth_audience",
    SDK: "mcp 2.3.0 MCPServer (bench/peers/sdk_server.py): stateless JSON, uvicorn 2 workers, uvloop, httptools",
}
LIST, GET, FULL, LIST_500 = "tools/list", "Cluster GET", "cluster_get (full)", "list 500 Clusters"
GET_CONNECTIONS = (16,)
LIST_500_CONNECTIONS = (4,)
CASES = ((GET, GET_CONNECTIONS, (OURS, *PEERS)), (FULL, GET_CONNECTIONS, (OURS,)),
         (LIST_500, LIST_500_CONNECTIONS, (OURS, GO)))
COUNTED_CALLS = 10  # sequential calls per server and case to count API calls
RATIO_GOAL = 2.0
STEADY = 0.20  # every round within 20% of the median


def measure_peers(plan: rounds.RoundsPlan, say: Callable[[str], None], problems: list[str], *,
                  installed: cache.Installed, controlplane: LocalControlPlane, idp: LocalIdP, workdir: Path,
                  ours_env: dict[str, str], ours_args: tuple[str, ...]) -> list[dict]:
    say(f"Peers (same IdP, control plane and wrk; median of {plan.rounds} interleaved rounds)")
    for name in (OURS, *PEERS):
        say(f"  {name}: {DESCRIPTIONS[name]}")
    token = {"Authorization": f"Bearer {idp.token('mcp-client', scope='openid', resource=RESOURCE)}"}
    with ExitStack() as stack:
        front = stack.enter_context(KubeFront(installed.kubefront, controlplane, workdir))
        kubeconfig = front.write_kubeconfig(workdir / "front.kubeconfig")
        ours = stack.enter_context(GunicornServer(
            "wsgi:app", workers=2, extra_args=ours_args,
            **{**ours_env, "KUBECONFIG": str(kubeconfig), "OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": RESOURCE}))
        go = stack.enter_context(GoPeer(installed.go_server, kubeconfig, idp.issuer, RESOURCE, workdir))
        sdk = stack.enter_context(SdkPeer(installed.sdk_python, kubeconfig, idp.issuer, RESOURCE, workdir))
        say(f"  kubefront {front.host} -> {controlplane.host}; ours {ours.url}, {GO} {go.url}, {SDK} {sdk.url}")

        def scenario(case: str, server_name: str, server: rounds.Endpoint, call: tuple[str, dict[str, str]],
                     connections: tuple[int, ...] | None = None) -> rounds.Scenario:
            body, headers = call
            return rounds.Scenario(f"{server_name}: {case}", server, body, {**headers, **token},
                                   connections=connections, tags={"case": case, "server": server_name})

        listing = rpc("tools/list")
        cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster"}
        scenarios = [
            scenario(LIST, OURS, ours, listing),
            scenario(LIST, GO, go, listing),
            scenario(LIST, SDK, sdk, listing),
            scenario(GET, OURS, ours, rpc("resources/read", {"uri": f"cnpg://{SMALL}/clusters/{TARGET}"}),
                     GET_CONNECTIONS),
            scenario(GET, GO, go, tool_call("resources_get", **cluster, namespace=SMALL, name=TARGET), GET_CONNECTIONS),
            scenario(GET, SDK, sdk, tool_call("cluster_get", namespace=SMALL, name=TARGET), GET_CONNECTIONS),
            scenario(FULL, OURS, ours, tool_call("cluster_get", namespace=SMALL, name=TARGET), GET_CONNECTIONS),
            scenario(LIST_500, OURS, ours, tool_call("cluster_list", namespace=LARGE), LIST_500_CONNECTIONS),
            scenario(LIST_500, GO, go, tool_call("resources_list", **cluster, namespace=LARGE), LIST_500_CONNECTIONS),
        ]
        calls = {(s.tags["case"], s.tags["server"]): _api_calls(front, s) for s in scenarios}
        rows = rounds.interleaved(plan, scenarios, say, problems)
        for row in rows:
            row["api_calls"] = calls[(row["case"], row["server"])]
        return rows


def _api_calls(front: KubeFront, scenario: rounds.Scenario) -> float:
    """API calls per call, as the front counted them over sequential calls (after one to warm up)."""
    def call() -> None:
        answer = requests.post(scenario.server.mcp_url, data=scenario.body, headers=scenario.headers, timeout=60)
        answer.raise_for_status()

    call()
    before = front.requests_sent()
    for _ in range(COUNTED_CALLS):
        call()
    return (front.requests_sent() - before) / COUNTED_CALLS


# ----- the summary ------------------------------------------------------------------------

def _row(rows: list[dict], case: str, server: str, connections: int) -> dict:
    for row in rows:
        if row["case"] == case and row["server"] == server and row["connections"] == connections:
            return row
    raise KeyError(f"{server}: {case} at {connections}")


def _spread(values: list[float]) -> str:
    return f"{min(values):,.0f}-{max(values):,.0f}" if max(values) >= 100 else f"{min(values):.2f}-{max(values):.2f}"


def _worst_deviation(values: list[float]) -> float:
    middle = statistics.median(values)
    return max(abs(v - middle) / middle for v in values) if middle else float("inf")


def _paired(ours: list[float], theirs: list[float]) -> list[float]:
    """Per-round ratios: round i of ours over round i of the peer (the same round, minutes apart at most)."""
    return [a / b if b else float("inf") for a, b in zip(ours, theirs, strict=True)]


def summary(rows: list[dict], plan: rounds.RoundsPlan) -> tuple[str, list[report.Target]]:
    table_rows = []
    for case, connection_counts, servers in ((LIST, plan.connections, (OURS, *PEERS)), *CASES):
        for connections in connection_counts:
            ours = _row(rows, case, OURS, connections)
            for name in servers:
                row = _row(rows, case, name, connections)
                p50 = statistics.median(row["p50_ms_runs"])
                p99 = statistics.median(row["p99_ms_runs"])
                if name == OURS or case == FULL:
                    rps_ratio = rounds_ratio = p50_ratio = ""
                else:
                    per_round = _paired(ours["rps_runs"], row["rps_runs"])
                    rps_ratio = f"{ours['rps'] / row['rps']:.2f}×" if row["rps"] else "-"
                    rounds_ratio = f"{min(per_round):.2f}-{max(per_round):.2f}"
                    p50_ratio = f"{statistics.median(ours['p50_ms_runs']) / p50:.2f}×" if p50 else "-"
                api_calls = "-" if case == LIST else f"{row['api_calls']:g}"
                table_rows.append((case, connections, name, row["rps"], _spread(row["rps_runs"]), p50, p99,
                                   row["errors"], row["response_bytes"], api_calls, rps_ratio, rounds_ratio,
                                   p50_ratio))
    text = report.table(
        f"Peers (median of {plan.rounds} interleaved rounds; ratios are ours/peer, "
        "req/s higher is better, p50 lower is better)",
        ("case", "conns", "server", "req/s", "rounds req/s", "p50 ms", "p99 ms", "errors", "answer bytes",
         "API calls", "ours/peer req/s", "rounds ratio", "ours/peer p50"), table_rows)
    return text, _targets(rows, plan)


def _targets(rows: list[dict], plan: rounds.RoundsPlan) -> list[report.Target]:
    targets = []
    for peer in PEERS:
        for connections in plan.connections:
            ours, theirs = _row(rows, LIST, OURS, connections), _row(rows, LIST, peer, connections)
            ratio = ours["rps"] / theirs["rps"] if theirs["rps"] else float("inf")
            per_round = _paired(ours["rps_runs"], theirs["rps_runs"])
            steady_ours, steady_peer = _worst_deviation(ours["rps_runs"]), _worst_deviation(theirs["rps_runs"])
            targets.append(report.Target(
                f"tools/list vs {peer} c={connections}",
                f">= {RATIO_GOAL:.0f}x peer req/s; every round within {STEADY:.0%} of its median",
                f"{ratio:.2f}x (rounds {min(per_round):.2f}-{max(per_round):.2f}); rounds off median: "
                f"ours {steady_ours:.0%}, peer {steady_peer:.0%}",
                ratio >= RATIO_GOAL and steady_ours <= STEADY and steady_peer <= STEADY))
    connections = GET_CONNECTIONS[0]
    ours, theirs = _row(rows, GET, OURS, connections), _row(rows, GET, GO, connections)
    full = _row(rows, FULL, OURS, connections)
    ours_p50, go_p50 = statistics.median(ours["p50_ms_runs"]), statistics.median(theirs["p50_ms_runs"])
    full_p50 = statistics.median(full["p50_ms_runs"])
    ratio = ours["rps"] / theirs["rps"] if theirs["rps"] else float("inf")
    targets.append(report.Target(
        f"one Cluster GET vs {GO} c={connections}", f"p50 <= peer p50 and >= {RATIO_GOAL:.0f}x peer req/s",
        f"{ours_p50:.2f} ms vs {go_p50:.2f} ms, {ratio:.2f}x req/s",
        ours_p50 <= go_p50 and ratio >= RATIO_GOAL))
    targets.append(report.Target(
        f"cluster_get in full vs {GO} GET c={connections}", "p50 <= 2x the peer's single GET",
        f"{full_p50:.2f} ms vs {go_p50:.2f} ms ({full_p50 / go_p50:.2f}x; API calls {full['api_calls']:g} vs "
        f"{theirs['api_calls']:g})" if go_p50 else "-", bool(go_p50) and full_p50 <= 2 * go_p50))
    return targets
