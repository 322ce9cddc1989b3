"""`python -m bench [--smoke]`: measure the server against floors taken in the same run, print the tables.

Every figure is paired with a floor measured minutes apart on the same machine (a bare Flask app
under the same gunicorn.conf.py, direct Kubernetes API calls, the server without auth), so the
ratios stay meaningful on a noisy or slow machine. The peers section (bench/peers) measures two
pinned peer servers beside ours in the same rounds: containers/kubernetes-mcp-server (Go) and the
official MCP Python SDK's MCPServer; they are fetched once into ~/.cache/cnpg-mcp/peers. Targets are printed as met or not; the exit
status only says whether the run was sane (no errors, every figure present), never whether a
target was met: benchmarks report, tests assert.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import kubernetes

from bench import fixtures, measure, report, rounds, wrk
from bench.fixtures import LARGE, RESOURCE, SMALL, TARGET, rpc, tool_call
from bench.peers import cache as peer_cache
from bench.peers import scenarios as peer_scenarios
from bench.rounds import Scenario
from devenv.controlplane import LocalControlPlane
from devenv.gunicorn import GunicornServer
from devenv.idp import LocalIdP
from devenv.redis import LocalRedis

# Recycling is turned off during runs so one worker restart does not dominate a short window;
# the memory run needs it off to see growth at all (max_requests would hide a leak).
NO_RECYCLING = ("--max-requests", "0")


@dataclass
class Plan:
    seconds: float  # per load run
    warmup_seconds: float
    connections: tuple[int, ...]
    sequential_seconds: float
    warmup_requests: int
    soak_requests: int
    rounds: int


FULL = Plan(seconds=4, warmup_seconds=1, connections=(16, 64), sequential_seconds=3, warmup_requests=1_500,
            soak_requests=10_000, rounds=5)
SMOKE = Plan(seconds=1, warmup_seconds=0, connections=(16, 64), sequential_seconds=2, warmup_requests=300,
             soak_requests=1_000, rounds=1)


@dataclass
class Results:
    http: list[dict] = field(default_factory=list)
    kube: list[dict] = field(default_factory=list)
    kube_fixed_p50_ms: float = 0.0
    memory: dict = field(default_factory=dict)
    peers: list[dict] = field(default_factory=list)
    peer_setup: dict = field(default_factory=dict)  # versions, flags, cache paths, what fetching cost
    problems: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, plan: Plan, say: Callable[[str], None],
                 kube_configuration: kubernetes.client.Configuration) -> None:
        self.plan = plan
        self.say = say
        self.kube_configuration = kube_configuration  # for the direct API calls the Kubernetes path compares with
        self.results = Results()

    # ----- building blocks ------------------------------------------------------------

    def http_rounds(self, scenarios: list[Scenario]) -> None:
        """Every scenario at every connection count, in `plan.rounds` interleaved rounds; medians (bench/rounds.py)."""
        self.results.http.extend(rounds.interleaved(self.plan, scenarios, self.say, self.results.problems))

    def sequential(self, server: GunicornServer, body: str, headers: dict[str, str]) -> wrk.LoadResult:
        result = wrk.run(server.mcp_url, body=body, headers=headers, connections=1,
                         seconds=self.plan.sequential_seconds)
        if result.errors:
            self.results.problems.append(f"sequential run: {result.errors} errors")
        if result.requests == 0:
            self.results.problems.append("sequential run: no request completed")
        return result

    def soak(self, server: GunicornServer, requests_total: int, calls: list[tuple[str, dict[str, str]]]) -> int:
        """At least `requests_total` requests, taking turns over `calls` in 1-second wrk runs, 8 connections.

        wrk ends on time, not on a count, so the runs repeat until the total is reached; returns it."""
        sent = 0
        while sent < requests_total:
            for body, headers in calls:
                result = wrk.run(server.mcp_url, body=body, headers=headers, connections=8, seconds=1)
                sent += result.requests
                if result.errors:
                    self.results.problems.append(f"memory soak: {result.errors} errors")
        return sent

    # ----- the scenarios --------------------------------------------------------------

    def http_path(self, app_env: dict[str, str], idp: LocalIdP, redis: LocalRedis) -> None:
        self.say(f"HTTP path (2 workers x 8 threads, shipped gunicorn.conf.py; median of {self.plan.rounds} "
                 "interleaved rounds)")
        listing, discover = rpc("tools/list"), rpc("server/discover", modern=True)
        rs256 = {"Authorization": f"Bearer {idp.token('mcp-client', scope='openid', resource=RESOURCE)}"}
        es256 = {"Authorization": f"Bearer {idp.token('mcp-client-es', scope='openid', resource=RESOURCE)}"}
        bad = {"Authorization": "Bearer not.a.token"}
        # Failures are what the failed-auth limit counts: let every one through to measure its storage.
        auth_env = {**app_env, "OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": RESOURCE,
                    "AUTH_FAILURE_LIMIT": "100000000/minute"}

        def server(target: str = "wsgi:app", **env: str) -> GunicornServer:
            return GunicornServer(target, workers=2, extra_args=NO_RECYCLING, **env)

        with (server("bench.floor:app") as floor, server(**app_env) as bare, server(**auth_env) as cached,
              server(OIDC_TOKEN_CACHE_SIZE="0", **auth_env) as uncached,
              server(RATELIMIT_STORAGE_URI=redis.url, **auth_env) as shared):
            self.http_rounds([
                Scenario("floor: bare Flask JSON", floor, *listing),
                Scenario("no auth: tools/list", bare, *listing),
                Scenario("no auth: server/discover", bare, *discover),
                Scenario("auth cache on RS256: tools/list", cached, listing[0], {**listing[1], **rs256}),
                Scenario("auth cache on RS256: server/discover", cached, discover[0], {**discover[1], **rs256}),
                Scenario("auth cache on ES256: tools/list", cached, listing[0], {**listing[1], **es256}),
                Scenario("auth cache off RS256: tools/list", uncached, listing[0], {**listing[1], **rs256}),
                Scenario("auth cache off ES256: tools/list", uncached, listing[0], {**listing[1], **es256}),
                Scenario("limiter memory://: rejected token (401)", cached, listing[0], {**listing[1], **bad},
                         status=401),
                Scenario("limiter Redis: rejected token (401)", shared, listing[0], {**listing[1], **bad},
                         status=401),
            ])

    def peers(self, app_env: dict[str, str], controlplane: LocalControlPlane, idp: LocalIdP,
              installed: peer_cache.Installed, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.results.peers = peer_scenarios.measure_peers(
            self.plan, self.say, self.results.problems, installed=installed, controlplane=controlplane, idp=idp,
            workdir=workdir, ours_env=app_env, ours_args=NO_RECYCLING)

    def footprint(self, server: GunicornServer) -> None:
        """Memory of the whole pod-equivalent (master + 2 workers) after the load above."""
        workers = server.worker_pids()
        self.results.memory["pod_workers"] = len(workers)
        self.results.memory["pod_rss_mib"] = sum(measure.rss_mib(p) for p in [server.pid, *workers])
        self.results.memory["pod_pss_mib"] = sum(measure.pss_mib(p) for p in [server.pid, *workers])
        self.results.memory["master_rss_mib"] = measure.rss_mib(server.pid)

    def kubernetes_path(self, app_env: dict[str, str], idp: LocalIdP) -> None:
        self.say("Kubernetes path (one connection, back to back; direct = the same API calls made the same way, raw JSON)")
        auth = {"Authorization": f"Bearer {idp.token('mcp-client', scope='openid', resource=RESOURCE)}"}
        auth_env = {**app_env, "OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": RESOURCE}
        with GunicornServer("wsgi:app", workers=2, extra_args=NO_RECYCLING, **auth_env) as server:
            self._kubernetes_cases(server, auth)
            self.footprint(server)

    def _kubernetes_cases(self, server: GunicornServer, auth: dict[str, str]) -> None:
        api = kubernetes.client.ApiClient(self.kube_configuration)
        core, custom = kubernetes.client.CoreV1Api(api), kubernetes.client.CustomObjectsApi(api)
        group, version, plural = "postgresql.cnpg.io", "v1", "clusters"

        def raw(response) -> object:
            return json.loads(response.data)

        pool = ThreadPoolExecutor(max_workers=2)

        def direct_get() -> None:
            # What cluster_get asks the API for, the way it asks: pods and events in flight while
            # the Cluster is read.
            pods = pool.submit(lambda: raw(core.list_namespaced_pod(
                SMALL, label_selector=f"cnpg.io/cluster={TARGET}", _preload_content=False)))
            events = pool.submit(lambda: raw(core.list_namespaced_event(
                SMALL, field_selector=f"involvedObject.kind=Cluster,involvedObject.name={TARGET}",
                _preload_content=False)))
            raw(custom.get_namespaced_custom_object(group, version, SMALL, plural, TARGET, _preload_content=False))
            pods.result(), events.result()

        def direct_list(namespace: str) -> Callable[[], None]:
            def call() -> None:
                # What cluster_list(namespace=...) asks for: the list, read while the namespace is checked.
                listing = pool.submit(lambda: raw(custom.list_namespaced_custom_object(
                    group, version, namespace, plural, _preload_content=False)))
                raw(core.read_namespace(namespace, _preload_content=False))
                listing.result()
            return call

        cases = [
            ("get-cluster", tool_call("cluster_get", namespace=SMALL, name=TARGET), direct_get),
            ("list 10 clusters", tool_call("cluster_list", namespace=SMALL), direct_list(SMALL)),
            ("list 500 clusters", tool_call("cluster_list", namespace=LARGE), direct_list(LARGE)),
        ]
        # The fixed cost of one request with no API call (HTTP, auth, limiter, dispatch, logs), for scale.
        body, headers = rpc("server/discover", modern=True)
        fixed = self.sequential(server, body, {**headers, **auth})
        self.results.kube_fixed_p50_ms = fixed.p50_ms
        self.say(f"  no API call (server/discover) p50 {fixed.p50_ms:.2f} ms")
        for label, (body, headers), direct in cases:
            headers = {**headers, **auth}
            result = measure.check_answer(server.mcp_url, body, headers, expect=label)
            if label.startswith("list"):
                expected = 500 if "500" in label else 10
                if result["structuredContent"]["count"] != expected:
                    self.results.problems.append(f"{label}: the tool saw {result['structuredContent']['count']}")
            # Rounds alternate ours and direct so drift on a shared machine hits both alike; medians.
            ours_runs, direct_runs = [], []
            for _ in range(self.plan.rounds):
                ours_runs.append(self.sequential(server, body, headers))
                direct_runs.append(measure.time_loop(direct, self.plan.sequential_seconds))
            ours = sorted(ours_runs, key=lambda r: r.p50_ms)[len(ours_runs) // 2]
            theirs = sorted(direct_runs, key=lambda r: r.p50_ms)[len(direct_runs) // 2]
            self.say(f"  {label:<18} ours p50 {ours.p50_ms:7.2f} ms  direct p50 {theirs.p50_ms:7.2f} ms  "
                     f"(+{ours.p50_ms - theirs.p50_ms:.2f} ms, {ours.p50_ms / theirs.p50_ms:.2f}x)")
            self.results.kube.append({
                "operation": label, "ours_p50_ms": ours.p50_ms, "ours_p99_ms": ours.p99_ms,
                "direct_p50_ms": theirs.p50_ms, "direct_p99_ms": theirs.p99_ms,
                "ours_requests": sum(r.requests for r in ours_runs), "direct_requests": sum(r.count for r in direct_runs),
            })

    def memory_and_startup(self, app_env: dict[str, str], idp: LocalIdP) -> None:
        self.say("Memory and start-up (1 worker x 8 threads)")
        token = {"Authorization": f"Bearer {idp.token('mcp-client', scope='openid', resource=RESOURCE)}"}
        env = {**app_env, "OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": RESOURCE}
        listing = rpc("tools/list")
        listing = (listing[0], {**listing[1], **token})
        discover = rpc("server/discover", modern=True)
        discover = (discover[0], {**discover[1], **token})
        get = tool_call("cluster_get", namespace=SMALL, name=TARGET)
        get = (get[0], {**get[1], **token})
        began = time.perf_counter()
        with GunicornServer("wsgi:app", workers=1, extra_args=NO_RECYCLING, **env) as server:
            self.results.memory["start_to_health_s"] = time.perf_counter() - began
            # The first tools/list also builds the worker's lazy parts (JWKS client, discovery).
            self.results.memory["first_tools_list_s"] = measure.first_success(server.mcp_url, *listing, timeout=30)
            (worker,) = server.worker_pids()
            self.results.memory["worker_rss_boot_mib"] = measure.rss_mib(worker)
            self.results.memory["warmup_requests"] = self.soak(server, self.plan.warmup_requests,
                                                               [listing, discover, get])
            self.results.memory["worker_rss_warm_mib"] = measure.rss_mib(worker)
            self.results.memory["soak_requests"] = self.soak(server, self.plan.soak_requests, [listing, discover, get])
            self.results.memory["worker_rss_soak_mib"] = measure.rss_mib(worker)
            self.results.memory["worker_uss_soak_mib"] = measure.uss_mib(worker)
            # A fresh worker (as after a crash or a recycle): SIGKILL it and time the replacement's first answer.
            # The listening socket stays with the master, so the request waits for the new worker.
            began = time.perf_counter()
            os.kill(worker, signal.SIGKILL)
            measure.first_success(server.mcp_url, *listing, timeout=30)
            self.results.memory["worker_restart_to_answer_s"] = time.perf_counter() - began
        memory = self.results.memory
        self.say(f"  worker RSS: boot {memory['worker_rss_boot_mib']:.1f} MiB, warm {memory['worker_rss_warm_mib']:.1f}"
                 f" MiB, after {memory['soak_requests']:,} more requests {memory['worker_rss_soak_mib']:.1f} MiB")
        self.say(f"  start to /health {memory['start_to_health_s']:.2f} s; killed worker to first answer "
                 f"{memory['worker_restart_to_answer_s']:.2f} s")


def _by(rows: list[dict], scenario: str, connections: int) -> dict:
    for row in rows:
        if row["scenario"] == scenario and row["connections"] == connections:
            return row
    raise KeyError(f"{scenario} at {connections}")


def summarize(results: Results, plan: Plan) -> tuple[str, list[report.Target]]:
    """The tables and target verdicts for whichever sections ran."""
    text, targets = "", []
    if results.http:
        section, verdicts = _http_summary(results, plan)
        text, targets = text + section, targets + verdicts
    if results.kube:
        section, verdicts = _kube_summary(results)
        text, targets = text + "\n" + section, targets + verdicts
    if results.memory:
        section, verdicts = _memory_summary(results.memory)
        text, targets = text + "\n" + section, targets + verdicts
    if results.peers:
        section, verdicts = peer_scenarios.summary(results.peers, plan)
        text, targets = text + "\n" + section, targets + verdicts
    return text, targets


def _http_summary(results: Results, plan: Plan) -> tuple[str, list[report.Target]]:
    floor = {c: _by(results.http, "floor: bare Flask JSON", c)["rps"] for c in plan.connections}
    rows = [
        (r["scenario"], r["connections"], r["rps"], f"{min(r['rps_runs']):,.0f}-{max(r['rps_runs']):,.0f}",
         r["p50_ms"], r["p99_ms"], r["errors"], f"{100 * r['rps'] / floor[r['connections']]:.0f}%")
        for r in results.http
    ]
    # The spread of the rounds is the shared machine's: with one socket per worker the kernel spreads
    # wrk's keep-alive connections over both workers (app/web/gunicorn_worker.py).
    text = report.table(f"HTTP path (median of {plan.rounds} rounds)",
                        ("scenario", "conns", "req/s", "rounds req/s", "p50 ms", "p99 ms", "errors", "of floor"), rows)
    top = max(plan.connections)
    authed = _by(results.http, "auth cache on RS256: tools/list", top)
    bare = _by(results.http, "no auth: tools/list", top)
    no_cache = _by(results.http, "auth cache off RS256: tools/list", top)
    cache_cost = bare["rps"] / authed["rps"] - 1
    return text, [
        report.Target("authed tools/list vs floor", f">= 80% of floor req/s at c={top}, 0 errors",
                      f"{100 * authed['rps'] / floor[top]:.0f}%, {authed['errors']} errors",
                      authed["rps"] >= 0.8 * floor[top] and authed["errors"] == 0),
        report.Target("token cache hit cost", "<= 5% over no auth",
                      f"{100 * cache_cost:+.1f}% (cache off: {100 * (bare['rps'] / no_cache['rps'] - 1):+.1f}%)",
                      cache_cost <= 0.05),
    ]


def _kube_summary(results: Results) -> tuple[str, list[report.Target]]:
    rows = [
        (k["operation"], k["ours_p50_ms"], k["direct_p50_ms"], f"{k['ours_p50_ms'] - k['direct_p50_ms']:+.2f}",
         f"{k['ours_p50_ms'] / k['direct_p50_ms']:.2f}×", k["ours_p99_ms"], k["direct_p99_ms"])
        for k in results.kube
    ]
    text = report.table(
        f"Kubernetes path (sequential; a request with no API call takes {results.kube_fixed_p50_ms:.2f} ms at p50)",
        ("operation", "ours p50 ms", "direct p50 ms", "overhead ms", "ratio", "ours p99 ms", "direct p99 ms"), rows)
    get_row = next(k for k in results.kube if k["operation"] == "get-cluster")
    list_row = next(k for k in results.kube if k["operation"] == "list 500 clusters")
    m = results.memory
    text += "\n" + report.table("Pod footprint (the Kubernetes-path server after its runs)", ("figure", "value"), [
        ("master RSS", f"{m['master_rss_mib']:.1f} MiB"),
        (f"master + {m['pod_workers']} workers, RSS sum", f"{m['pod_rss_mib']:.1f} MiB"),
        (f"master + {m['pod_workers']} workers, PSS sum (cgroup charge)", f"{m['pod_pss_mib']:.1f} MiB"),
    ])
    return text, [
        report.Target("get-cluster overhead", "<= 2 ms at p50 over direct",
                      f"{get_row['ours_p50_ms'] - get_row['direct_p50_ms']:+.2f} ms",
                      get_row["ours_p50_ms"] - get_row["direct_p50_ms"] <= 2.0),
        report.Target("list 500 clusters", "<= 1.5x direct at p50",
                      f"{list_row['ours_p50_ms'] / list_row['direct_p50_ms']:.2f}x",
                      list_row["ours_p50_ms"] <= 1.5 * list_row["direct_p50_ms"]),
        report.Target("2 workers x 8 threads fit", "<= 256 MiB (PSS, master included)",
                      f"{m['pod_pss_mib']:.1f} MiB (RSS sum {m['pod_rss_mib']:.1f})", m["pod_pss_mib"] <= 256),
    ]


def _memory_summary(m: dict) -> tuple[str, list[report.Target]]:
    if "worker_rss_warm_mib" not in m:
        return "", []
    rows = [
        ("worker RSS after first request", f"{m['worker_rss_boot_mib']:.1f} MiB"),
        (f"worker RSS after warm-up ({m['warmup_requests']:,} requests)", f"{m['worker_rss_warm_mib']:.1f} MiB"),
        (f"worker RSS after {m['soak_requests']:,} more requests", f"{m['worker_rss_soak_mib']:.1f} MiB"),
        ("of which private to the worker (USS; the rest is shared with the master)",
         f"{m['worker_uss_soak_mib']:.1f} MiB"),
        ("gunicorn start to /health 200", f"{m['start_to_health_s']:.2f} s"),
        ("first tools/list after start (lazy JWKS, discovery)", f"{1000 * m['first_tools_list_s']:.0f} ms"),
        ("worker killed to first answered tools/list", f"{m['worker_restart_to_answer_s']:.2f} s"),
    ]
    growth = m["worker_rss_soak_mib"] - m["worker_rss_warm_mib"]
    return report.table("Memory and start-up (1 worker)", ("figure", "value"), rows), [
        report.Target("worker memory", "<= 120 MiB RSS after warm-up", f"{m['worker_rss_warm_mib']:.1f} MiB",
                      m["worker_rss_warm_mib"] <= 120),
        report.Target("no growth", f"< 2 MiB over {m['soak_requests']:,} requests", f"{growth:+.1f} MiB",
                      growth < 2),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per figure: checks the bench runs")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--only", default="http,kube,memory,peers",
                        help="comma-separated sections to run: http, kube, memory, peers (default: all)")
    parser.add_argument("--peers", action=argparse.BooleanOptionalAction, default=None,
                        help="add (--peers) or leave out (--no-peers) the peer servers section (default: as --only)")
    args = parser.parse_args(argv)
    sections = {name.strip() for name in args.only.split(",")}
    if args.peers is not None:
        sections = (sections | {"peers"}) if args.peers else (sections - {"peers"})
    plan = SMOKE if args.smoke else FULL
    say = (lambda message: print(message, flush=True))
    began = time.monotonic()
    say(f"cnpg-mcp-server benchmark ({'smoke' if args.smoke else 'full'}) on {report.machine()}")
    installed = None
    setup: dict = {}
    if "peers" in sections:
        # Before anything starts: a first run downloads (npm, PyPI) and builds, cached for the next.
        installed = peer_cache.ensure_all(say)
        setup = {"versions": {"kubernetes-mcp-server": peer_cache.GO_SERVER_VERSION, "mcp": "2.3.0"},
                 "servers": peer_scenarios.DESCRIPTIONS, "artefacts": installed.fetched}
        say("peers: " + "; ".join(f"{name} {'cached' if facts['cached'] else 'fetched'} ({facts['path']})"
                                  for name, facts in installed.fetched.items()))
    with (LocalControlPlane(verbose=False) as cp,
          LocalIdP([RESOURCE], access_token_ttl=3600, verbose=False) as idp,
          LocalRedis(verbose=False) as redis,
          tempfile.TemporaryDirectory(prefix="bench-") as tmp):
        kubeconfig = cp.write_kubeconfig(Path(tmp) / "kubeconfig")
        bench = Bench(plan, say, cp.configuration())
        seeded = time.monotonic()
        fixtures.seed_clusters(cp.api_client(), SMALL, 10, full_for=10)
        fixtures.seed_clusters(cp.api_client(), LARGE, 500, full_for=0)
        say(f"seeded 10 + 500 clusters in {time.monotonic() - seeded:.1f} s")
        app_env = {"KUBECONFIG": str(kubeconfig), "KUBE_TIMEOUT_SECONDS": "10"}
        bench.results.peer_setup = setup
        if "http" in sections:
            bench.http_path(app_env, idp, redis)
        if "kube" in sections:
            bench.kubernetes_path(app_env, idp)
        if "memory" in sections:
            bench.memory_and_startup(app_env, idp)
        if installed is not None:
            bench.peers(app_env, cp, idp, installed, Path(tmp) / "peers")
    text, targets = summarize(bench.results, plan)
    print(text)
    print(report.targets_table(targets))
    print(f"\n{sum(t.met for t in targets)}/{len(targets)} targets met; {time.monotonic() - began:.0f} s in all"
          + (" (smoke: figures from 1 s runs are rough)" if args.smoke else ""))
    if args.json:
        args.json.write_text(json.dumps({"machine": report.machine(), "results": asdict(bench.results),
                                         "targets": [asdict(t) for t in targets]}, indent=2))
    if bench.results.problems:
        print("\nThe run was not clean:\n  " + "\n  ".join(bench.results.problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
