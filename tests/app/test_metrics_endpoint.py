"""GET /metrics (who may read it, what it says), the counters behind it, and the JSON access log."""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient
from kubernetes.client.rest import ApiException
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.auth.keys import LastKnownGoodJWKClient
from app.kube import KubeAccess
from app.kube.errors import NotFound
from app.settings import Settings, SettingsError
from tests.app.helpers import client_for, legacy_body, legacy_headers
from tests.support.processes import free_port
from tests.support.tools import test_registry

OIDC = {"OIDC_ISSUER": "https://idp.example.test", "OIDC_AUDIENCE": "https://mcp.example.test/mcp"}


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by (sample name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def call_tool(client: FlaskClient, name: str, arguments: dict) -> int:
    response = client.post("/mcp", json=legacy_body("tools/call", {"name": name, "arguments": arguments}),
                           headers=legacy_headers())
    return response.status_code


# --- who may read /metrics ----------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_read_metrics_as_prometheus_text(client: FlaskClient, address: str) -> None:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE mcp_http_requests_total counter" in response.get_data(as_text=True)


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.7", "2001:db8::1"])
def test_other_addresses_are_refused_by_default(client: FlaskClient, address: str) -> None:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})

    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert "mcp_http_requests_total" not in response.get_data(as_text=True)


def test_metrics_allow_from_replaces_the_loopback_default() -> None:
    client = client_for({"METRICS_ALLOW_FROM": "10.0.0.0/8, 2001:db8::/32"})

    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.200.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "2001:db8::5"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "11.0.0.1"}).status_code == 403


def test_metrics_can_be_turned_off() -> None:
    response = client_for({"METRICS_ENABLED": "false"}).get("/metrics")

    assert response.status_code == 404
    assert "METRICS_ENABLED" in response.get_json()["error_description"]


@pytest.mark.parametrize("raw", ["10.0.0.0/33", "loopback", "10.0.0.0/8,nope"])
def test_a_bad_network_stops_the_start_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="^METRICS_ALLOW_FROM: expected comma-separated CIDRs"):
        Settings.from_env({"METRICS_ALLOW_FROM": raw})


# --- the counters move ----------------------------------------------------


def test_http_requests_are_counted_by_route_method_and_status(client: FlaskClient) -> None:
    before = scrape(client)
    for _ in range(3):
        assert client.post("/mcp", json=legacy_body("ping"), headers=legacy_headers()).status_code == 200
    assert client.get("/mcp").status_code == 405
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)

    def delta(**labels: str) -> float:
        return value(after, "mcp_http_requests_total", **labels) - value(before, "mcp_http_requests_total", **labels)

    assert delta(endpoint="/mcp", method="POST", status="200") == 3
    assert delta(endpoint="/mcp", method="GET", status="405") == 1
    assert delta(endpoint="unmatched", method="GET", status="404") == 1
    assert delta(endpoint="/metrics", method="GET", status="200") == 1  # the first scrape


def test_tool_calls_are_counted_by_tool_and_outcome_and_timed(client: FlaskClient) -> None:
    before = scrape(client)
    assert call_tool(client, "numbers_add", {"a": 1, "b": 2}) == 200
    assert call_tool(client, "numbers_add", {"a": 1, "b": 2}) == 200
    assert call_tool(client, "cluster_fail", {"name": "pg"}) == 200
    call_tool(client, "made_up_tool_name", {})
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("mcp_tool_calls_total", tool="numbers_add", outcome="ok") == 2
    assert delta("mcp_tool_calls_total", tool="cluster_fail", outcome="error") == 1
    assert delta("mcp_tool_calls_total", tool="unknown", outcome="unknown_tool") == 1
    assert delta("mcp_tool_call_seconds_count", tool="numbers_add") == 2
    assert delta("mcp_tool_call_seconds_sum", tool="numbers_add") > 0
    assert not any("made_up_tool_name" in str(key) for key in after), "callers must not mint label values"


def test_auth_failures_and_the_429s_that_follow_are_counted() -> None:
    client = client_for({**OIDC, "AUTH_FAILURE_LIMIT": "2/minute"})
    before = scrape(client)
    statuses = [client.post("/mcp", json=legacy_body("ping")).status_code for _ in range(4)]
    after = scrape(client)

    assert statuses == [401, 401, 429, 429]
    assert (value(after, "mcp_auth_failures_total", reason="missing_header")
            - value(before, "mcp_auth_failures_total", reason="missing_header")) == 2
    assert (value(after, "mcp_rate_limited_total", limit="auth_failures")
            - value(before, "mcp_rate_limited_total", limit="auth_failures")) == 2


def test_tool_call_rate_limit_refusals_are_counted() -> None:
    client = client_for({"TOOL_CALL_LIMIT": "1/minute"})
    before = scrape(client)
    statuses = [call_tool(client, "numbers_add", {"a": 1, "b": 1}) for _ in range(3)]
    after = scrape(client)

    assert statuses == [200, 429, 429]
    assert (value(after, "mcp_rate_limited_total", limit="tool_calls")
            - value(before, "mcp_rate_limited_total", limit="tool_calls")) == 2


def test_kube_calls_are_timed_by_kind_and_failures_counted_by_class(settings: Settings) -> None:
    def missing(**_: object) -> None:
        raise ApiException(status=404, reason="Not Found")

    def errors(name: str) -> float:
        return REGISTRY.get_sample_value("kube_api_errors_total", {"error": name}) or 0.0

    def calls(kind: str) -> float:
        return REGISTRY.get_sample_value("kube_api_call_seconds_count", {"kind": kind}) or 0.0

    kube = KubeAccess(settings)
    not_found, reads, writes = errors("NotFound"), calls("read"), calls("write")

    assert kube.call("read a thing", lambda **_: "v1", read=True) == "v1"
    with pytest.raises(NotFound):
        kube.call("delete a thing", missing, read=False)

    assert errors("NotFound") == not_found + 1
    assert calls("read") == reads + 1
    assert calls("write") == writes + 1


def test_failed_jwks_fetches_are_counted() -> None:
    failures = REGISTRY.get_sample_value("oidc_jwks_fetches_total", {"outcome": "error"}) or 0.0
    # Nothing listens on a just-freed loopback port: a real, fast connection refusal.
    keys = LastKnownGoodJWKClient(f"http://127.0.0.1:{free_port()}/jwks", stale_seconds=60, timeout=2)

    with pytest.raises(Exception):  # noqa: B017 - KeysUnavailable; only the counter matters here
        keys.fetch_data()

    assert REGISTRY.get_sample_value("oidc_jwks_fetches_total", {"outcome": "error"}) == failures + 1


# --- access log -------------------------------------------------------------


def _access_lines(stream: io.StringIO) -> list[dict]:
    entries = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [entry for entry in entries if entry.get("logger") == "cnpg_mcp.access"]


def test_every_request_is_logged_once_as_json_with_its_request_id() -> None:
    stream = io.StringIO()
    # LOG_LEVEL=WARNING hides INFO application logs, not the access log.
    client = create_app(Settings.from_env({"LOG_LEVEL": "WARNING"}), registry=test_registry(),
                        log_stream=stream).test_client()

    client.post("/mcp", json=legacy_body("ping"), headers={**legacy_headers(), "X-Request-Id": "req-42",
                                                            "User-Agent": "probe/1.0"},
                environ_base={"REMOTE_ADDR": "127.0.0.5"})
    client.get("/health")

    first, second = _access_lines(stream)
    assert first["method"] == "POST" and first["path"] == "/mcp" and first["status"] == 200
    assert first["request_id"] == "req-42"
    assert first["remote_addr"] == "127.0.0.5"
    assert first["user_agent"] == "probe/1.0"
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second["path"] == "/health" and len(second["request_id"]) == 32


def test_rate_limited_requests_are_logged_with_a_duration_too() -> None:
    stream = io.StringIO()
    client = create_app(Settings.from_env({**OIDC, "AUTH_FAILURE_LIMIT": "1/minute"}), registry=test_registry(),
                        log_stream=stream, serve_http=False).test_client()

    client.post("/mcp", json=legacy_body("ping"))
    client.post("/mcp", json=legacy_body("ping"))

    assert [(e["status"], e["duration_ms"] is not None) for e in _access_lines(stream)] == [(401, True), (429, True)]


def test_access_log_can_be_turned_off() -> None:
    stream = io.StringIO()
    client = create_app(Settings.from_env({"ACCESS_LOG": "false"}), registry=test_registry(),
                        log_stream=stream).test_client()

    client.get("/health")

    assert _access_lines(stream) == []
