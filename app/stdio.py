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
from app.kube import KubeAccess
from app.protocol.server import McpServer
from app.settings import Settings, SettingsError
from app.tools.context import ToolContext


def serve(server: McpServer, kube: KubeAccess, settings: Settings, stdin: TextIO, stdout: TextIO) -> None:
    for line in stdin:
        if not line.strip():
            continue
        ctx = ToolContext(request_id=uuid.uuid4().hex, kube=kube, settings=settings)
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
    # Logs on stderr: stdout carries only protocol messages.
    app = create_app(settings, log_stream=sys.stderr, serve_http=False)
    logging.getLogger(__name__).info("serving MCP over stdio")
    state = app.extensions["cnpg_mcp"]
    serve(state.server, state.kube, state.settings, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
