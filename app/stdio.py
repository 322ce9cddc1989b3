"""stdio transport: `python -m app.stdio` speaks MCP over stdin/stdout.

One JSON-RPC message per line in, one per line out (MCP stdio transport).
Uses the same dispatch as HTTP; logs go to stderr so stdout stays protocol-only.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import TextIO

from app import create_app
from app.identity import ANONYMOUS
from app.kube import KubeContexts
from app.protocol.server import McpServer
from app.settings import Settings, SettingsError
from app.tools.context import new_tool_context
from app.web.state import app_state


def serve(server: McpServer, kube: KubeContexts, settings: Settings, stdin: TextIO, stdout: TextIO) -> None:
    for line in stdin:
        if not line.strip():
            continue
        # The local user runs it as their own process: the caller is the kubeconfig's identity.
        ctx = new_tool_context(uuid.uuid4().hex, ANONYMOUS, settings, kube)
        try:
            decoded = json.loads(line)
        except (ValueError, RecursionError):
            reply = server.parse_error()
        else:
            reply = server.handle(decoded, ctx, headers=None)
        if reply.has_body:
            stdout.write(reply.json() + "\n")
            stdout.flush()


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"cnpg-mcp-server: configuration error: {error}", file=sys.stderr)
        return 2
    if settings.kube_auth != "serviceaccount":
        print(f"cnpg-mcp-server: configuration error: KUBE_AUTH={settings.kube_auth} needs a caller's token, and stdio has none; "
              "over stdio the server runs as the kubeconfig's identity", file=sys.stderr)
        return 2
    # Logs on stderr: stdout carries only protocol messages.
    app = create_app(settings, log_stream=sys.stderr, serve_http=False)
    logging.getLogger(__name__).info("serving MCP over stdio")
    state = app_state(app)
    serve(state.server, state.kube, state.settings, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
