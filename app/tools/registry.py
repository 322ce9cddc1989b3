"""The explicit tool registry: validates declarations once, lists them, calls them.

Arguments are checked against the tool's input schema before its handler runs,
and results against its output schema after. Every failure a model could fix
becomes an `isError` result; only an unknown tool name is a protocol error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import mcp_types as t
from jsonschema.validators import Draft202012Validator

from app.tools.context import ToolContext
from app.tools.errors import DOMAIN_ERRORS, UnknownToolError
from app.tools.schema_check import SchemaCheck
from app.tools.spec import PROJECT_NAME_RE, TOOL_NAME_RE, ToolSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    spec: ToolSpec
    wire: dict[str, Any]
    """The `tools/list` entry, built once."""
    check_input: SchemaCheck
    check_output: SchemaCheck


class Registry:
    """An ordered, immutable set of tools. Order is declaration order, so
    `tools/list` is deterministic."""

    def __init__(self, specs: Iterable[ToolSpec]) -> None:
        self._entries: dict[str, _Entry] = {}
        for spec in specs:
            _check_declaration(spec)
            if spec.name in self._entries:
                raise ValueError(f"duplicate tool name {spec.name!r}")
            self._entries[spec.name] = _Entry(
                spec=spec,
                wire=_wire_tool(spec),
                check_input=SchemaCheck(spec.input_schema),
                check_output=SchemaCheck(spec.output_schema),
            )

    def filtered(self, keep: Callable[[ToolSpec], bool]) -> Registry:
        """A registry holding only the tools `keep` accepts (e.g. read-only mode)."""
        return Registry(entry.spec for entry in self._entries.values() if keep(entry.spec))

    @property
    def names(self) -> list[str]:
        return list(self._entries)

    def specs(self) -> list[ToolSpec]:
        return [entry.spec for entry in self._entries.values()]

    def spec(self, name: object) -> ToolSpec | None:
        entry = self._entries.get(name) if isinstance(name, str) else None
        return entry.spec if entry else None

    def wire_tools(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """The `tools` array of a `tools/list` result (only `names`, in declaration order, when given)."""
        if names is None:
            return [entry.wire for entry in self._entries.values()]
        wanted = set(names)
        return [entry.wire for name, entry in self._entries.items() if name in wanted]

    def call(self, name: str, arguments: Mapping[str, Any] | None, ctx: ToolContext) -> dict[str, Any]:
        """Run a tool and return a `CallToolResult` as a wire dict.

        Raises:
            UnknownToolError: no tool is registered under `name`.
        """
        entry = self._entries.get(name)
        if entry is None:
            raise UnknownToolError(name, self.names)
        args = dict(arguments or {})
        problem = entry.check_input.first_violation(args)
        if problem is not None:
            return error_result(f"Invalid arguments for tool {name!r}: {problem}")
        refusal = _namespace_refusal(args, ctx)
        if refusal is not None:
            return error_result(refusal)
        try:
            structured = entry.spec.handler(args, ctx)
        except DOMAIN_ERRORS as exc:
            log.info("tool %s failed: %s", name, exc, extra={"request_id": ctx.request_id})
            return error_result(str(exc))
        except Exception:
            # The one catch-all for handlers: the traceback goes to the log, the
            # model gets a message it can act on, never the exception text.
            log.exception("tool %s raised unexpectedly", name, extra={"request_id": ctx.request_id})
            return error_result(
                f"Tool {name!r} failed with an internal error (request id {ctx.request_id}). "
                "Retrying will not help; report the request id to the server operator."
            )
        structured = dict(structured)
        problem = entry.check_output.first_violation(structured)
        if problem is not None:
            log.error("tool %s returned output violating its schema: %s", name, problem)
            return error_result(
                f"Tool {name!r} produced an invalid result (request id {ctx.request_id}); "
                "report the request id to the server operator."
            )
        return {
            "content": [{"type": "text", "text": json.dumps(structured, separators=(",", ":"), sort_keys=True)}],
            "structuredContent": structured,
            "isError": False,
        }


def _namespace_refusal(args: dict[str, Any], ctx: ToolContext) -> str | None:
    """MCP_NAMESPACES is enforced here, for every tool, before any handler runs."""
    allowed = ctx.settings.namespaces if ctx.settings else ()
    namespace = args.get("namespace")
    if allowed and isinstance(namespace, str) and namespace not in allowed:
        return f"Namespace {namespace!r} is not served by this server; allowed: {', '.join(allowed)}"
    return None


def error_result(message: str) -> dict[str, Any]:
    """A `CallToolResult` that tells the model what went wrong."""
    return {"content": [{"type": "text", "text": message}], "isError": True}


def _check_declaration(spec: ToolSpec) -> None:
    """Fail at start-up, not at call time, on a badly declared tool."""
    if not TOOL_NAME_RE.fullmatch(spec.name) or not PROJECT_NAME_RE.fullmatch(spec.name):
        raise ValueError(f"tool name {spec.name!r} must be <resource>_<verb> in lower snake case")
    if not spec.title or not spec.description.strip():
        raise ValueError(f"tool {spec.name!r} needs a title and a description")
    for label, schema in (("input", spec.input_schema), ("output", spec.output_schema)):
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as exc:
            raise ValueError(f"tool {spec.name!r}: invalid {label} schema: {exc.message}") from None
        if schema.get("type") != "object":
            raise ValueError(f"tool {spec.name!r}: {label} schema must have type 'object'")
    if spec.input_schema.get("additionalProperties") is not False:
        raise ValueError(f"tool {spec.name!r}: input schema must be closed (additionalProperties: false)")


def _wire_tool(spec: ToolSpec) -> dict[str, Any]:
    tool = t.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=dict(spec.input_schema),
        output_schema=dict(spec.output_schema),
        annotations=t.ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.hints.read_only,
            destructive_hint=spec.hints.destructive,
            idempotent_hint=spec.hints.idempotent,
            open_world_hint=spec.hints.open_world,
        ),
    )
    return tool.model_dump(by_alias=True, mode="json", exclude_none=True)
