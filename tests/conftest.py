"""Shared fixtures: a fresh app per test, built from explicit settings."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings
from tests.support.tools import test_registry

MODERN = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env({})


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings, registry=test_registry())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def modern_body(method: str, params: dict | None = None, request_id: int | str = 1) -> dict:
    """A 2026-07-28 request body with the required per-request `_meta`."""
    merged = dict(params or {})
    merged["_meta"] = {META_VERSION: MODERN, META_CAPS: {}, **merged.get("_meta", {})}
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": merged}


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method, "Accept": "application/json, text/event-stream"}
    if name is not None:
        headers["Mcp-Name"] = name
    return headers
