"""WSGI entry for lifecycle tests: the test tools plus one that takes a while (to have requests in flight)."""

from __future__ import annotations

import time
from typing import Any

from app import create_app
from app.tools.context import ToolContext
from app.tools.registry import Registry
from app.tools.spec import ToolHints, ToolSpec
from tests.support.tools import TEST_TOOLS


def _wait(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    time.sleep(args["seconds"])
    return {"waited": args["seconds"]}


CLOCK_WAIT = ToolSpec(
    name="clock_wait",
    title="Wait",
    description="Wait the given number of seconds, then answer. Use it to keep a request in flight.",
    input_schema={"type": "object", "properties": {"seconds": {"type": "number", "minimum": 0, "maximum": 20}},
                  "required": ["seconds"], "additionalProperties": False},
    output_schema={"type": "object", "properties": {"waited": {"type": "number"}}, "required": ["waited"]},
    hints=ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False),
    handler=_wait,
)

app = create_app(registry=Registry([*TEST_TOOLS, CLOCK_WAIT]))
