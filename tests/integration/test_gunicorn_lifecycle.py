"""gunicorn's lifecycle with the shipped config: graceful shutdown with requests in flight, and
timeouts that nest (a hung Kubernetes API ends as a tool error long before the worker is killed)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import requests

from tests.support.blackhole import BlackholeServer
from tests.support.processes import GunicornServer

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def _call(url: str, tool: str, arguments: dict, results: list, timeout: float = 30) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    try:
        response = requests.post(url, json=body, timeout=timeout)
        results.append((response.status_code, response.json()))
    except requests.RequestException as exc:
        results.append(("error", repr(exc)))


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return True
    return False


def test_sigterm_lets_in_flight_requests_finish_refuses_new_ones_and_exits_in_time() -> None:
    server = GunicornServer("tests.support.wsgi_slow_tools:app", workers=2, GUNICORN_GRACEFUL_TIMEOUT="10")
    server.start()
    results: list = []
    callers = [threading.Thread(target=_call, args=(server.mcp_url, "clock_wait", {"seconds": 3}, results))
               for _ in range(3)]
    for caller in callers:
        caller.start()
    time.sleep(0.5)  # let the three requests reach the workers before the signal

    started = time.monotonic()
    server.signal_term()
    deadline = started + 5
    while not _refused(server.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    refused_while_draining = _refused(server.port)
    for caller in callers:
        caller.join(timeout=20)
    exit_code = server.wait(timeout=15)
    elapsed = time.monotonic() - started

    assert refused_while_draining, "new connections must be refused once shutdown begins"
    assert [status for status, _ in results] == [200, 200, 200], results
    assert all(body["result"]["structuredContent"] == {"waited": 3} for _, body in results)
    assert exit_code == 0
    assert elapsed < 10, f"exited after {elapsed:.1f}s, beyond GUNICORN_GRACEFUL_TIMEOUT"


def test_a_hung_kubernetes_api_is_a_tool_error_before_the_worker_timeout(tmp_path: Path) -> None:
    with BlackholeServer() as api:
        kubeconfig = tmp_path / "hung.yaml"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: hung\n"
            f"clusters: [{{name: hung, cluster: {{server: 'http://127.0.0.1:{api.port}'}}}}]\n"
            "users: [{name: u, user: {token: not-a-secret}}]\n"
            "contexts: [{name: hung, context: {cluster: hung, user: u}}]\n"
        )
        with GunicornServer("wsgi:app", workers=1, KUBECONFIG=str(kubeconfig), KUBE_TIMEOUT_SECONDS="2",
                            GUNICORN_TIMEOUT="8") as server:
            results: list = []
            started = time.monotonic()
            _call(server.mcp_url, "cluster_list", {}, results, timeout=20)
            elapsed = time.monotonic() - started
            after = requests.post(server.mcp_url, json=LIST, timeout=5)

    status, body = results[0]
    assert status == 200, results
    assert body["result"]["isError"] is True
    assert body["result"]["content"][0]["text"].startswith("Kubernetes API unavailable: no answer within 2s")
    assert elapsed < 8, "the tool error must come before GUNICORN_TIMEOUT kills the worker"
    assert after.status_code == 200  # the same worker is alive and serving
    assert api.accepted, "the call really reached the (hung) API server"
