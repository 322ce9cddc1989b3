"""Small helpers shared by the app-level tests (fixtures live in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from tests.support.tools import test_registry

LEGACY_ACCEPT = "application/json, text/event-stream"


def client_for(environ: dict[str, str]) -> FlaskClient:
    """A test client for a fresh app built from `environ` with the test tools."""
    return create_app(Settings.from_env(environ), registry=test_registry()).test_client()


def legacy_body(method: str, params: dict[str, Any] | None = None, request_id: int | str = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        body["params"] = params
    return body


def legacy_headers(version: str | None = "2025-11-25") -> dict[str, str]:
    headers = {"Accept": LEGACY_ACCEPT}
    if version is not None:
        headers["MCP-Protocol-Version"] = version
    return headers


def initialize_params(version: str) -> dict[str, Any]:
    return {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "pytest", "version": "1.0"}}
