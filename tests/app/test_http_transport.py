"""The HTTP layer around /mcp, plus health, readiness and the well-known URLs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import INVALID_REQUEST, PARSE_ERROR
from werkzeug.test import TestResponse

from tests.app.helpers import LEGACY_ACCEPT, client_for, initialize_params, legacy_body, legacy_headers
from tests.conftest import modern_body, modern_headers

PING = legacy_body("ping")


def _error_code(response: TestResponse) -> int:
    body = response.get_json()
    assert body["jsonrpc"] == "2.0", body
    return body["error"]["code"]


# --- methods, media types and size ------------------------------------


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_non_post_methods_on_mcp_answer_405_allowing_post(client: FlaskClient, method: str) -> None:
    response = client.open("/mcp", method=method, headers={"Accept": "text/event-stream"})

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert _error_code(response) == INVALID_REQUEST


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json"])
def test_post_without_json_content_type_answers_415(client: FlaskClient, content_type: str) -> None:
    response = client.post("/mcp", data=json.dumps(PING), content_type=content_type)

    assert response.status_code == 415
    assert _error_code(response) == INVALID_REQUEST


def test_json_content_type_with_charset_is_accepted(client: FlaskClient) -> None:
    response = client.post("/mcp", data=json.dumps(PING), content_type="application/json; charset=utf-8")

    assert response.status_code == 200
    assert response.get_json()["result"] == {}


@pytest.mark.parametrize("accept", ["text/html", "text/event-stream", "image/png, text/plain"])
def test_accept_that_rules_out_json_answers_406(client: FlaskClient, accept: str) -> None:
    response = client.post("/mcp", json=PING, headers={"Accept": accept})

    assert response.status_code == 406
    assert _error_code(response) == INVALID_REQUEST


@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept": LEGACY_ACCEPT}, {"Accept": "application/json"}, {"Accept": "*/*"}, {"Accept": "application/*"}],
    ids=["no-accept", "json-and-sse", "json", "any", "application-any"],
)
def test_accept_allowing_json_or_missing_is_served(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.post("/mcp", json=PING, headers=headers)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_body_over_the_limit_answers_413_with_a_jsonrpc_error() -> None:
    client = client_for({"MCP_MAX_BODY_BYTES": "2048"})
    body = json.dumps(legacy_body("tools/call", {"name": "text_echo", "arguments": {"text": "x"}}))
    body = body + " " * (4096 - len(body))

    response = client.post("/mcp", data=body, content_type="application/json")

    assert response.status_code == 413
    assert _error_code(response) == INVALID_REQUEST
    assert response.get_json()["id"] is None
    assert "2048" in response.get_json()["error"]["message"]


def test_body_under_the_limit_is_served() -> None:
    client = client_for({"MCP_MAX_BODY_BYTES": "2048"})

    response = client.post("/mcp", json=PING)

    assert response.status_code == 200


# --- the JSON-RPC envelope ---------------------------------------------


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2", "\xff\xfe", '{"jsonrpc": "2.0", "id": 1,}'])
def test_invalid_json_answers_400_parse_error_with_null_id(client: FlaskClient, raw: str) -> None:
    response = client.post("/mcp", data=raw.encode("latin-1"), content_type="application/json")

    assert response.status_code == 400
    assert _error_code(response) == PARSE_ERROR
    assert response.get_json()["id"] is None


@pytest.mark.parametrize(
    "body",
    [[PING], [PING, legacy_body("tools/list", request_id=2)], []],
    ids=["one", "two", "empty"],
)
def test_batch_arrays_answer_400_invalid_request(client: FlaskClient, body: list[Any]) -> None:
    response = client.post("/mcp", json=body)

    assert response.status_code == 400
    assert _error_code(response) == INVALID_REQUEST


def test_request_without_jsonrpc_and_id_answers_400_with_the_corrected_request(client: FlaskClient) -> None:
    response = client.post("/mcp", json={"method": "tools/list", "params": {}})

    assert response.status_code == 400
    assert _error_code(response) == INVALID_REQUEST
    message = response.get_json()["error"]["message"]
    corrected = json.loads(re.search(r"\{.*\}", message).group(0))
    assert corrected == {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def test_notification_answers_202_with_an_empty_body(client: FlaskClient) -> None:
    response = client.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})

    assert response.status_code == 202
    assert response.get_data() == b""


@pytest.mark.parametrize(
    "body",
    [{"jsonrpc": "2.0", "id": 1, "result": {}}, {"jsonrpc": "2.0", "id": "x", "error": {"code": -1, "message": "no"}}],
    ids=["result", "error"],
)
def test_jsonrpc_response_without_version_header_answers_202(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/mcp", json=body)

    assert response.status_code == 202
    assert response.get_data() == b""


# --- Origin and Host guards ---------------------------------------------


@pytest.mark.parametrize("origin", ["https://evil.example.com", "null", "http://localhost.evil.example.com"])
def test_foreign_origin_answers_403(client: FlaskClient, origin: str) -> None:
    response = client.post("/mcp", json=PING, headers={"Origin": origin})

    assert response.status_code == 403
    assert _error_code(response) == INVALID_REQUEST
    assert response.get_json()["id"] is None


def test_malformed_origin_answers_403_not_a_server_error(client: FlaskClient) -> None:
    response = client.post("/mcp", json=PING, headers={"Origin": "http://[::1"})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "origin", ["http://localhost:5173", "http://127.0.0.1:9", "http://[::1]:8080", "https://localhost"]
)
def test_loopback_origins_are_allowed(client: FlaskClient, origin: str) -> None:
    response = client.post("/mcp", json=PING, headers={"Origin": origin})

    assert response.status_code == 200


def test_origin_listed_in_allowed_origins_is_allowed_and_others_still_refused() -> None:
    client = client_for({"MCP_ALLOWED_ORIGINS": "https://app.example.com"})

    allowed = client.post("/mcp", json=PING, headers={"Origin": "https://app.example.com"})
    refused = client.post("/mcp", json=PING, headers={"Origin": "https://evil.example.com"})

    assert allowed.status_code == 200
    assert refused.status_code == 403


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:3000", "127.0.0.1.evil.example.com"])
def test_foreign_host_answers_421(client: FlaskClient, host: str) -> None:
    response = client.post("/mcp", json=PING, headers={"Host": host})

    assert response.status_code == 421
    assert _error_code(response) == INVALID_REQUEST


@pytest.mark.parametrize("host", ["localhost", "localhost:3000", "127.0.0.1:3000", "[::1]:3000"])
def test_loopback_hosts_are_served(client: FlaskClient, host: str) -> None:
    assert client.post("/mcp", json=PING, headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "environ",
    [{"MCP_ALLOWED_HOSTS": "mcp.example.com"}, {"MCP_PUBLIC_URL": "https://mcp.example.com/mcp"}],
    ids=["allowed-hosts", "public-url"],
)
def test_configured_host_is_served(environ: dict[str, str]) -> None:
    client = client_for(environ)

    assert client.post("/mcp", json=PING, headers={"Host": "mcp.example.com"}).status_code == 200
    assert client.post("/mcp", json=PING, headers={"Host": "evil.example.com"}).status_code == 421


# --- sessions and request ids -------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (legacy_body("initialize", initialize_params("2025-11-25")), legacy_headers(None)),
        (legacy_body("tools/list"), {**legacy_headers(), "Mcp-Session-Id": "client-made-up-session"}),
        (legacy_body("nope/nope"), {**legacy_headers(), "Mcp-Session-Id": "client-made-up-session"}),
        (modern_body("tools/list"), {**modern_headers("tools/list"), "Mcp-Session-Id": "client-made-up-session"}),
        (modern_body("server/discover"), modern_headers("server/discover")),
    ],
    ids=["initialize", "legacy-with-session", "legacy-error-with-session", "modern-with-session", "discover"],
)
def test_no_response_carries_a_session_id(client: FlaskClient, body: dict[str, Any], headers: dict[str, str]) -> None:
    response = client.post("/mcp", json=body, headers=headers)

    assert response.status_code in (200, 404)
    assert "Mcp-Session-Id" not in response.headers


@pytest.mark.parametrize(("method", "path"), [("POST", "/mcp"), ("GET", "/health"), ("GET", "/missing")])
def test_sane_request_id_is_echoed(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, json=PING, headers={"X-Request-Id": "abc-123.x:y_z"})

    assert response.headers["X-Request-Id"] == "abc-123.x:y_z"


@pytest.mark.parametrize("incoming", ["has space", "x" * 65, "<script>", "a;b", ""])
def test_unsafe_or_missing_request_id_is_replaced_by_a_generated_one(client: FlaskClient, incoming: str) -> None:
    first = client.get("/health", headers={"X-Request-Id": incoming})
    second = client.get("/health")

    for response in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


# --- health, readiness, well-known, unknown paths -----------------------


def test_health_answers_exactly_healthy(client: FlaskClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "healthy", "service": "cnpg-mcp-server"}


def test_ready_answers_503_when_the_kubeconfig_does_not_exist() -> None:
    client = client_for({"KUBECONFIG": "/nonexistent/kubeconfig"})

    response = client.get("/ready")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["service"] == "cnpg-mcp-server"
    assert body["checks"]["kubernetes"]["ok"] is False
    assert "/nonexistent/kubeconfig" in body["checks"]["kubernetes"]["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ],
)
def test_oauth_metadata_urls_answer_404_json_with_a_reason(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error_description"]


@pytest.mark.parametrize("path", ["/nope", "/mcp/extra", "/.well-known/openid-configuration"])
def test_unknown_path_answers_404_json_not_html(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert "<html" not in response.get_data(as_text=True).lower()
    assert response.get_json()["error"] == "Not Found"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/mcp", {}),
        ("PUT", "/mcp", {"json": PING}),
        ("POST", "/mcp", {"data": "{oops", "content_type": "application/json"}),
        ("POST", "/mcp", {"data": "x", "content_type": "text/plain"}),
        ("POST", "/mcp", {"json": PING, "headers": {"Accept": "text/html"}}),
        ("POST", "/mcp", {"json": PING, "headers": {"Origin": "https://evil.example.com"}}),
        ("POST", "/mcp", {"json": PING, "headers": {"Host": "evil.example.com"}}),
        ("POST", "/mcp", {"json": [PING]}),
        ("POST", "/mcp", {"json": {"jsonrpc": "2.0", "id": None, "method": "ping"}}),
        ("POST", "/mcp", {"json": PING, "headers": {"MCP-Protocol-Version": "1999-01-01"}}),
        ("POST", "/mcp", {"json": modern_body("ping"), "headers": modern_headers("ping")}),
        ("POST", "/health", {"json": {}}),
        ("GET", "/missing", {}),
    ],
)
def test_error_responses_are_json_and_never_contain_a_traceback(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = client.open(path, method=method, **kwargs)

    assert response.status_code >= 400
    assert response.mimetype == "application/json"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("accept", ["application/json;q=0", "text/event-stream, application/json;q=0"])
def test_accept_that_refuses_json_with_q_zero_answers_406(client: FlaskClient, accept: str) -> None:
    response = client.post("/mcp", json=PING, headers={"Accept": accept})

    assert response.status_code == 406


def test_accepted_notification_has_no_body_and_no_media_type(client: FlaskClient) -> None:
    response = client.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})

    assert response.status_code == 202
    assert response.data == b""
    assert "Content-Type" not in response.headers
