"""stdio entry for tests: the real stdio transport with the test tools registered."""

from __future__ import annotations

import sys

from app import create_app
from app.settings import Settings
from app.stdio import serve
from tests.support.tools import test_registry


def main() -> int:
    app = create_app(Settings.from_env(), registry=test_registry(), log_stream=sys.stderr)
    state = app.extensions["cnpg_mcp"]
    serve(state.server, state.kube, state.settings, sys.stdin, sys.stdout)
    return 0
