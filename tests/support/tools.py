"""Test-only tools, registered by the tests (never by the product).

They exercise the registry and dispatch paths: a structured result, a domain
error, an unexpected crash and schema validation.
"""

from __future__ import annotations

from typing import Any

from app.identity import ANONYMOUS, Principal
from app.kube import Identity, KubeContexts, KubeSession
from app.settings import Settings
from app.tools.context import ToolContext, new_tool_context
from app.tools.errors import ToolError
from app.tools.registry import Registry
from app.tools.spec import ToolHints, ToolSpec

def tool_context(settings: Settings | None = None, principal: Principal = ANONYMOUS,
                 request_id: str = "req-test-1") -> ToolContext:
    """A real per-call context (its Kubernetes clients are created only if a tool makes a call)."""
    settings = settings or Settings()
    return new_tool_context(request_id, principal, settings, KubeContexts(settings))


def kube_session(settings: Settings, identity: Identity | None = None) -> KubeSession:
    """A session in the default context, as `identity` (None: the server's own)."""
    contexts = KubeContexts(settings)
    return KubeSession(contexts, contexts.default, identity)


SECRET_IN_CRASH = "s3cr3t-password-in-exception"

_READ = ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False)
_WRITE = ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False)


def _echo(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return {"text": args["text"], "length": len(args["text"])}


def _add(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return {"sum": args["a"] + args["b"]}


def _fail(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    raise ToolError(f"cluster {args['name']!r} not found in namespace 'db'; clusters there: pg-main, pg-test")


def _crash(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    raise RuntimeError(SECRET_IN_CRASH)


def _bad_output(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return {"unexpected": True}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


ECHO = ToolSpec(
    name="text_echo",
    title="Echo text",
    description="Return the given text and its length. Use it to check that tool calls work.",
    input_schema=_object({"text": {"type": "string", "maxLength": 1000, "description": "Text to echo"}}, ["text"]),
    output_schema=_object({"text": {"type": "string"}, "length": {"type": "integer"}}, ["text", "length"]),
    hints=_READ,
    handler=_echo,
)
ADD = ToolSpec(
    name="numbers_add",
    title="Add two integers",
    description="Add two integers from 0 to 1000. Use it to test argument validation.",
    input_schema=_object(
        {"a": {"type": "integer", "minimum": 0, "maximum": 1000}, "b": {"type": "integer", "minimum": 0, "maximum": 1000}},
        ["a", "b"],
    ),
    output_schema=_object({"sum": {"type": "integer"}}, ["sum"]),
    hints=_READ,
    handler=_add,
)
FAIL = ToolSpec(
    name="cluster_fail",
    title="Always fails",
    description="Fails with a domain error naming the cluster. Use it to test error results.",
    input_schema=_object({"name": {"type": "string"}}, ["name"]),
    output_schema=_object({}, []),
    hints=_WRITE,
    handler=_fail,
)
CRASH = ToolSpec(
    name="server_crash",
    title="Crashes",
    description="Raises an unexpected exception. Use it to test that internals never leak.",
    input_schema=_object({}, []),
    output_schema=_object({}, []),
    hints=_WRITE,
    handler=_crash,
)
BAD_OUTPUT = ToolSpec(
    name="output_break",
    title="Breaks its output schema",
    description="Returns a result that violates its own output schema.",
    input_schema=_object({}, []),
    output_schema=_object({"sum": {"type": "integer"}}, ["sum"]),
    hints=_READ,
    handler=_bad_output,
)

TEST_TOOLS = [ECHO, ADD, FAIL, CRASH, BAD_OUTPUT]


def test_registry() -> Registry:
    return Registry(TEST_TOOLS)


test_registry.__test__ = False  # not a pytest test
