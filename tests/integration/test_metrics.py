"""/metrics under real gunicorn: every worker's counts add up, and the access log is JSON on stdout."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import GunicornServer

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


def _samples(server: GunicornServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _access_lines(server: GunicornServer) -> list[dict]:
    lines = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "cnpg_mcp.access":
                lines.append(entry)
    return lines


def test_metrics_add_up_every_worker_and_each_request_is_logged_once_as_json(tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    # TMPDIR only to find the directory gunicorn.conf.py creates for PROMETHEUS_MULTIPROC_DIR.
    with GunicornServer(workers=2, TMPDIR=str(tmp_path)) as server:
        (metrics_dir,) = tmp_path.glob("cnpg-mcp-metrics-*")
        sent: list[str] = []
        # Fresh connections until both workers have answered (the kernel spreads accepts; bounded).
        while len(sent) < 20 or len({e["pid"] for e in _access_lines(server) if e["path"] == "/mcp"}) < 2:
            assert len(sent) < 400, "one worker answered every request: cannot show aggregation"
            request_id = f"{run}-{len(sent)}"
            response = requests.post(server.mcp_url, json=PING, timeout=10,
                                     headers={**HEADERS, "X-Request-Id": request_id, "Connection": "close"})
            assert response.status_code == 200
            sent.append(request_id)
        tool_calls = 5
        for n in range(tool_calls):
            body = {"jsonrpc": "2.0", "id": n, "method": "tools/call",
                    "params": {"name": "numbers_add", "arguments": {"a": n, "b": 1}}}
            assert requests.post(server.mcp_url, json=body, headers={**HEADERS, "Connection": "close"},
                                 timeout=10).status_code == 200

        samples = _samples(server)
        lines = _access_lines(server)

        posts = (("endpoint", "/mcp"), ("method", "POST"), ("status", "200"))
        assert samples[("mcp_http_requests_total", posts)] == len(sent) + tool_calls
        assert samples[("mcp_tool_calls_total", (("outcome", "ok"), ("tool", "numbers_add")))] == tool_calls
        assert samples[("mcp_tool_call_seconds_count", (("tool", "numbers_add"),))] == tool_calls
        pings = [e for e in lines if e["path"] == "/mcp" and e["request_id"].startswith(run)]
        assert sorted(e["request_id"] for e in pings) == sorted(sent), "each request logged exactly once"
        assert len({e["pid"] for e in pings}) == 2
        for entry in pings:
            assert entry["method"] == "POST" and entry["status"] == 200
            assert entry["remote_addr"] == "127.0.0.1"
            assert entry["user_agent"].startswith("python-requests/")
            assert entry["duration_ms"] >= 0
        assert list(metrics_dir.glob("*.db")), "workers keep their values in the shared directory"
    assert not metrics_dir.exists(), "the metrics directory gunicorn created is removed at exit"



def test_a_given_metrics_directory_is_emptied_at_start_and_kept(tmp_path: Path) -> None:
    given = tmp_path / "metrics"
    given.mkdir()
    stale = given / "counter_999999.db"
    stale.write_bytes(b"left by an earlier run, unreadable")
    with GunicornServer(workers=2, PROMETHEUS_MULTIPROC_DIR=str(given)) as server:
        assert requests.post(server.mcp_url, json=PING, headers=HEADERS, timeout=10).status_code == 200
        samples = _samples(server)  # would fail to read the stale file had it been kept

        assert not stale.exists()
        assert samples[("mcp_http_requests_total", (("endpoint", "/mcp"), ("method", "POST"), ("status", "200")))] == 1
    assert given.is_dir(), "a directory the operator chose is not deleted"
