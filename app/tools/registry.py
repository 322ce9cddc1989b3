"""The explicit tool registry: validates declarations once, lists them, calls them.

Arguments are checked against the tool's input schema before its handler runs (and its
schema defaults filled in, so handlers never restate them), and results against its output
schema after. Every failure a model could fix becomes an `isError` result; only an unknown
tool name is a protocol error.

With several kubeconfig contexts (KUBE_CONTEXTS), every tool takes a `context` argument
(an enum of the allowed contexts; for tools that change things, of the writable ones) and
every result names its context. The context's read-only flag is enforced here, once; its
namespace allow-list where every call goes through, the tool's `KubeSession`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import mcp_types as t
from jsonschema.validators import Draft202012Validator

from app.kube import ContextPolicy
from app.tools.context import ToolContext
from app.tools.confirmation import ARGUMENT, PERSON_ONLY, PersonConfirmationNeeded
from app.tools.errors import DOMAIN_ERRORS, ToolError, UnknownToolError
from app.tools.input_rounds import InputRequired, InvalidInputRound, MissingClientCapability
from app.tools.schema_check import SchemaCheck
from app.tools.spec import PROJECT_NAME_RE, TOOL_NAME_RE, ToolSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    spec: ToolSpec
    wire: dict[str, Any]
    """The `tools/list` entry, built once."""
    check_input: SchemaCheck
    check_output: SchemaCheck | None
    """None for a tool that builds its own content (no output schema)."""


CONTEXT, ALL_CONTEXTS = "context", "all_contexts"
CONFIRM = "confirm"


class Registry:
    """An ordered, immutable set of tools. Order is declaration order, so
    `tools/list` is deterministic.

    `contexts` are the kubeconfig contexts the server serves (KubeContexts.policies); in
    single-cluster mode one unnamed policy, and no tool takes a `context`. Tools that change
    things are left out when every context is read-only.
    """

    def __init__(self, specs: Iterable[ToolSpec], contexts: Sequence[ContextPolicy] = (),
                 default_context: str | None = None, confirm_mode: str = ARGUMENT) -> None:
        self._contexts = tuple(c for c in contexts if c.name is not None)
        self._writable = [c.name for c in self._contexts if not c.read_only]
        everything_read_only = bool(contexts) and all(c.read_only for c in contexts)
        self._entries: dict[str, _Entry] = {}
        for spec in specs:
            _check_declaration(spec)
            if spec.name in self._entries:
                raise ValueError(f"duplicate tool name {spec.name!r}")
            if everything_read_only and not spec.hints.read_only:
                continue
            declared = _with_contexts(spec, self._contexts, default_context) if self._contexts else spec
            declared = _with_confirmation(declared, confirm_mode)
            self._entries[spec.name] = _Entry(
                spec=declared,
                wire=_wire_tool(declared),
                check_input=SchemaCheck(declared.input_schema),
                check_output=SchemaCheck(declared.output_schema) if declared.output_schema is not None else None,
            )

    def filtered(self, keep: Callable[[ToolSpec], bool]) -> Registry:
        """A registry holding only the tools `keep` accepts."""
        kept = Registry([])
        kept._contexts, kept._writable = self._contexts, self._writable
        kept._entries = {name: entry for name, entry in self._entries.items() if keep(entry.spec)}
        return kept

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
        try:
            ctx = self._aim(entry.spec, args, ctx)
        except DOMAIN_ERRORS as exc:
            return error_result(str(exc))
        problem = entry.check_input.first_violation(args)
        if problem is not None:
            return error_result(f"Invalid arguments for tool {name!r}: {problem}")
        args.pop(CONTEXT, None)
        _fill_defaults(args, entry.spec.input_schema)
        try:
            structured = entry.spec.handler(args, ctx)
        except DOMAIN_ERRORS as exc:
            log.info("tool %s failed: %s", name, exc, extra={"request_id": ctx.request_id})
            return error_result(str(exc))
        except (PersonConfirmationNeeded, InputRequired, MissingClientCapability, InvalidInputRound):
            raise  # nothing changed yet: the protocol layer answers (an input-required result or a protocol error)
        except Exception:
            # The one catch-all for handlers: the traceback goes to the log, the
            # model gets a message it can act on, never the exception text.
            log.exception("tool %s raised unexpectedly", name, extra={"request_id": ctx.request_id})
            return error_result(
                f"Tool {name!r} failed with an internal error (request id {ctx.request_id}). "
                "Retrying will not help; report the request id to the server operator."
            )
        if entry.spec.builds_content:
            return _own_content(name, structured, ctx)
        assert entry.check_output is not None
        structured = dict(structured)
        if self._contexts:
            structured.setdefault(CONTEXT, ctx.kube.context)
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


    def _aim(self, spec: ToolSpec, args: dict[str, Any], ctx: ToolContext) -> ToolContext:
        """The call's context, aimed at the `context` argument, refused when that context is not
        served or is read-only for a tool that changes things — before any API call.

        Raises:
            ContextNotServed, ToolError.
        """
        chosen = args.get(CONTEXT)
        if isinstance(chosen, str) and self._contexts:
            if args.get(ALL_CONTEXTS):
                raise ToolError(f"Give either {CONTEXT} or {ALL_CONTEXTS}, not both")
            ctx = ctx.in_context(chosen)
        if not spec.hints.read_only and ctx.kube.read_only:
            where = f"Context {ctx.kube.context!r} is" if ctx.kube.context else "This server is"
            writable = f"; writable contexts: {', '.join(self._writable)}" if self._writable else ""
            raise ToolError(f"{where} read-only: {spec.name} would change it{writable}")
        return ctx


def _fill_defaults(args: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Schema defaults of the arguments left out, so handlers read `args["dry_run"]` and the
    default is stated once, where the model sees it."""
    for key, prop in (schema.get("properties") or {}).items():
        if key not in args and isinstance(prop, Mapping) and "default" in prop:
            args[key] = copy.deepcopy(prop["default"])


def _with_contexts(spec: ToolSpec, contexts: Sequence[ContextPolicy], default: str | None) -> ToolSpec:
    """The tool as served with several contexts: a `context` argument (only writable contexts
    for a tool that changes things), `all_contexts` where it lists across them, and a `context`
    in every result."""
    names = [c.name for c in contexts if spec.hints.read_only or not c.read_only]
    read_only = [str(c.name) for c in contexts if c.read_only]
    description = f"Kubeconfig context (Kubernetes cluster) to act in; default: {default}."
    if read_only and not spec.hints.read_only:
        description += f" Read-only contexts ({', '.join(read_only)}) are not offered: this tool changes things."
    properties = dict(spec.input_schema.get("properties") or {})
    # x-mcp-header: 2026-07-28 clients repeat it as Mcp-Param-Context, so a gateway can route on the cluster.
    properties[CONTEXT] = {"type": "string", "enum": names, "description": description, "x-mcp-header": "Context"}
    if spec.lists_across_contexts:
        properties[ALL_CONTEXTS] = {
            "type": "boolean", "default": False,
            "description": "List in every allowed context at once; a context that cannot be reached is reported "
                           "in `contexts` instead of failing the answer",
        }
    input_schema = {**spec.input_schema, "properties": properties}
    if spec.output_schema is None:  # builds its own content: no structured result to name the context in
        return dataclasses.replace(spec, input_schema=input_schema)
    outputs = dict(spec.output_schema.get("properties") or {})
    outputs[CONTEXT] = {"type": ["string", "null"],
                        "description": "The kubeconfig context the answer is from (null: several)"}
    return dataclasses.replace(spec, input_schema=input_schema,
                               output_schema={**spec.output_schema, "properties": outputs})


def _with_confirmation(spec: ToolSpec, mode: str) -> ToolSpec:
    """The `confirm` argument as MCP_CONFIRM serves it: required (argument), optional because a person is
    asked where the client can (person), or gone because only a person may confirm (person-only)."""
    properties = dict(spec.input_schema.get("properties") or {})
    if mode == ARGUMENT or CONFIRM not in properties:
        return spec
    required = [name for name in spec.input_schema.get("required", []) if name != CONFIRM]
    if mode == PERSON_ONLY:
        del properties[CONFIRM]
    else:
        properties[CONFIRM] = {**properties[CONFIRM], "description": properties[CONFIRM].get("description", "")
                               + " Only needed when the client cannot ask its user: clients with form elicitation "
                               "(protocol 2026-07-28) are asked to let the person confirm instead."}
    return dataclasses.replace(spec, input_schema={**spec.input_schema, "properties": properties, "required": required})


def _own_content(name: str, result: Mapping[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The CallToolResult a `builds_content` handler returned, checked against the protocol's schema."""
    try:
        checked = t.CallToolResult.model_validate({"isError": False, **result})
    except ValueError as exc:
        log.error("tool %s returned an invalid CallToolResult: %s", name, exc)
        return error_result(f"Tool {name!r} produced an invalid result (request id {ctx.request_id}); "
                            "report the request id to the server operator.")
    return checked.model_dump(by_alias=True, mode="json", exclude_none=True)


def error_result(message: str) -> dict[str, Any]:
    """A `CallToolResult` that tells the model what went wrong."""
    return {"content": [{"type": "text", "text": message}], "isError": True}


def _check_declaration(spec: ToolSpec) -> None:
    """Fail at start-up, not at call time, on a badly declared tool."""
    if not TOOL_NAME_RE.fullmatch(spec.name) or not PROJECT_NAME_RE.fullmatch(spec.name):
        raise ValueError(f"tool name {spec.name!r} must be <resource>_<verb> in lower snake case")
    if not spec.title or not spec.description.strip():
        raise ValueError(f"tool {spec.name!r} needs a title and a description")
    if (spec.output_schema is None) != spec.builds_content:
        raise ValueError(f"tool {spec.name!r}: an output schema is required, and only a tool that builds its own "
                         "content has none")
    if spec.input_rounds and spec.hints.destructive:
        raise ValueError(f"tool {spec.name!r}: a destructive tool asks through the person confirmation, not its "
                         "own input rounds")
    schemas = [("input", spec.input_schema)] + ([("output", spec.output_schema)] if spec.output_schema else [])
    for label, schema in schemas:
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
        output_schema=dict(spec.output_schema) if spec.output_schema is not None else None,
        annotations=t.ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.hints.read_only,
            destructive_hint=spec.hints.destructive,
            idempotent_hint=spec.hints.idempotent,
            open_world_hint=spec.hints.open_world,
        ),
    )
    return tool.model_dump(by_alias=True, mode="json", exclude_none=True)
