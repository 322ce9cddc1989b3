"""Calling tools through the real app (Flask test client, handshake-era JSON-RPC)."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from app import create_app
from app.settings import Settings


class ToolCaller:
    """`caller("cluster_get", name=..., namespace=...)` → the CallToolResult as a dict."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def __call__(self, tool: str, **arguments: Any) -> dict[str, Any]:
        response = self.client.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert "result" in body, body
        return body["result"]

    def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call and require success; returns structuredContent."""
        result = self(tool, **arguments)
        assert result["isError"] is False, result["content"][0]["text"]
        assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
        return result["structuredContent"]

    def error(self, tool: str, **arguments: Any) -> str:
        """Call and require an isError result; returns its message."""
        result = self(tool, **arguments)
        assert result["isError"] is True, result
        return result["content"][0]["text"]


def tool_caller(kubeconfig: object, **env: str) -> ToolCaller:
    """The real app on the given kubeconfig (5 s Kubernetes timeout), plus any settings in `env`."""
    settings = Settings.from_env({"KUBECONFIG": str(kubeconfig), "KUBE_TIMEOUT_SECONDS": "5", **env})
    return ToolCaller(create_app(settings).test_client())
