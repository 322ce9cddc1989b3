"""MCP dispatch for both protocol generations, with no session state.

The transport hands over a decoded body plus the routing headers; this module
picks the era for that one request, validates the envelope with the `mcp`
package's helpers, calls the method handler and shapes the result for the
negotiated version. It returns an HTTP status alongside the JSON-RPC reply so
every transport (HTTP, stdio) shares one decision table.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import mcp_types as t
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_PROTOCOL_VERSION_HEADER,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
    validate_mcp_param_headers,
)
from mcp_types import methods
from mcp_types.jsonrpc import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
)
from pydantic import ValidationError

from app import metrics
from app.protocol.envelope import Message, read_message
from app.protocol.errors import (
    ProtocolError,
    RequestId,
    invalid_params,
    invalid_request,
    method_not_found,
    unsupported_version,
)
from app.protocol.versions import (
    ALL_SERVED_VERSIONS,
    DEFAULT_HEADERLESS_VERSION,
    HANDSHAKE_VERSIONS,
    MODERN_VERSIONS,
    negotiate_handshake,
)
from app.tools import completions, mcp_resources, prompts
from app.protocol.confirmations import PersonConfirmations
from app.protocol.providers import ContentProvider, InvalidArguments
from app.tools.access_policy import ToolPolicy
from app.tools.confirmation import PersonConfirmationNeeded
from app.tools.context import ToolContext
from app.tools.errors import DOMAIN_ERRORS, UnknownToolError
from app.tools.input_rounds import InputRequired, InputRound, InvalidInputRound, MissingClientCapability
from app.tools.registry import Registry, error_result

log = logging.getLogger(__name__)
audit = logging.getLogger("cnpg_mcp.audit")

# Errors about the message itself are 400 in both eras; the legacy era sends
# method-level errors in a 200 (as the python-sdk does) so handshake clients
# surface them as JSON-RPC errors rather than transport failures.
_LEGACY_HTTP_STATUS: Mapping[int, int] = {
    PARSE_ERROR: 400,
    INVALID_REQUEST: 400,
    HEADER_MISMATCH: 400,
    UNSUPPORTED_PROTOCOL_VERSION: 400,
}
_TOOL_LIST_TTL_MS = 60_000
# 2025-11-25's "resource not found"; not in mcp_types' constants.
RESOURCE_NOT_FOUND = -32002
# Application error outside JSON-RPC's reserved range: a resource/prompt could not be produced.
KUBERNETES_ERROR = -31000
T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What to send: an HTTP status and a JSON-RPC message, or no body (202)."""

    status: int
    body: dict[str, Any] | None = None
    step_up_scopes: tuple[str, ...] = ()
    """Set on a 403: every scope the call needs, for the transport's `insufficient_scope` challenge."""
    encoded: str | None = None
    """The whole message already encoded as JSON (a cached result spliced in); `body` is then None."""

    @property
    def has_body(self) -> bool:
        return self.body is not None or self.encoded is not None

    def json(self) -> str:
        """The message as compact JSON text."""
        if self.encoded is not None:
            return self.encoded
        return json.dumps(self.body, separators=(",", ":"))


@dataclass(frozen=True)
class EncodedResult:
    """A result validated and encoded once, then reused for every request that gets the same answer
    (tools/list: 40 tool schemas cost milliseconds to validate and encode, per request otherwise)."""

    text: str


# A method's handler: a result dict to validate and encode, or a result encoded once already.
Handler = Callable[[Message, str, ToolContext], "dict[str, Any] | EncodedResult"]


class InsufficientScope(Exception):
    """The caller's token lacks the scope a tool needs (HTTP 403 with a step-up challenge)."""

    def __init__(self, tool: str, scopes: list[str], request_id: RequestId | None) -> None:
        super().__init__(f"Insufficient scope for tool {tool!r}: requires {' '.join(scopes)}")
        self.scopes = tuple(scopes)
        self.request_id = request_id


@dataclass(frozen=True)
class ServerIdentity:
    name: str
    title: str
    version: str
    instructions: str


class McpServer:
    """Answers one JSON-RPC message at a time; holds no per-client state."""

    def __init__(self, registry: Registry, identity: ServerIdentity, policy: ToolPolicy,
                 confirmations: PersonConfirmations, content: ContentProvider | None = None) -> None:
        self._registry = registry
        self._content = content or ContentProvider()
        """Extra resources and prompts next to the product's (none in the product; see providers.py)."""
        self._confirmations = confirmations
        self._prompts = prompts.served_prompts(registry.names)
        self._policy = policy
        self._identity = identity
        self._tool_lists: dict[tuple[str, tuple[str, ...]], EncodedResult] = {}
        self._server_info = t.Implementation(
            name=identity.name, title=identity.title, version=identity.version
        ).model_dump(by_alias=True, mode="json", exclude_none=True)
        self._capabilities = t.ServerCapabilities(
            tools=t.ToolsCapability(list_changed=False),
            resources=t.ResourcesCapability(subscribe=False, list_changed=False),
            prompts=t.PromptsCapability(list_changed=False),
            completions=t.CompletionsCapability(),
        ).model_dump(by_alias=True, mode="json", exclude_none=True)
        content: dict[str, Handler] = {
            "resources/list": self._resources_list,
            "resources/templates/list": self._resource_templates_list,
            "resources/read": self._resources_read,
            "prompts/list": self._prompts_list,
            "prompts/get": self._prompts_get,
            "completion/complete": self._complete,
        }
        self._legacy: dict[str, Handler] = {
            "initialize": self._initialize,
            "ping": lambda _m, _v, _c: {},
            "tools/list": self._tools_list,
            "tools/call": self._tools_call,
            **content,
        }
        self._modern: dict[str, Handler] = {
            "server/discover": self._discover,
            "tools/list": self._tools_list,
            "tools/call": self._tools_call,
            **content,
        }

    @property
    def registry(self) -> Registry:
        return self._registry

    # --- entry point ---------------------------------------------------

    def handle(
        self,
        decoded: Any,
        ctx: ToolContext,
        headers: Mapping[str, str] | None,
        raw_headers: Iterable[tuple[str, str]] = (),
    ) -> Reply:
        """Answer one decoded JSON-RPC body.

        `headers` are the request's headers with lower-case names and stripped
        values, or None for transports without headers (stdio), where the era
        is read from the body alone.
        """
        legacy = True
        try:
            message = read_message(decoded)
            legacy = self._is_legacy(message, headers)
            if legacy:
                return self._handle_legacy(message, ctx, headers)
            return self._handle_modern(decoded, message, ctx, headers, raw_headers)
        except ProtocolError as exc:
            return self._error_reply(exc.request_id, exc.code, exc.message, exc.data, legacy=legacy)
        except InsufficientScope as exc:
            reply = self._error_reply(exc.request_id, INVALID_REQUEST, str(exc), {"requiredScopes": list(exc.scopes)},
                                      legacy=legacy)
            return Reply(403, reply.body, step_up_scopes=exc.scopes)
        except Exception:
            # Single catch-all: details go to the log, never to the client.
            log.exception("unexpected error while handling an MCP message", extra={"request_id": ctx.request_id})
            request_id = decoded.get("id") if isinstance(decoded, dict) else None
            return self._error_reply(
                request_id if isinstance(request_id, (str, int)) else None,
                INTERNAL_ERROR,
                f"Internal error (request id {ctx.request_id})",
                None,
                legacy=legacy,
            )

    def parse_error(self) -> Reply:
        return self._error_reply(None, PARSE_ERROR, "Parse error: the body is not valid JSON", None, legacy=True)

    # --- era routing ---------------------------------------------------

    def _is_legacy(self, message: Message, headers: Mapping[str, str] | None) -> bool:
        if headers is None:
            # stdio: per-request `_meta` marks the stateless era, anything else is the handshake era.
            meta = (message.params or {}).get("_meta")
            return not (isinstance(meta, dict) and t.PROTOCOL_VERSION_META_KEY in meta)
        version = headers.get(MCP_PROTOCOL_VERSION_HEADER)
        if version is None or version in HANDSHAKE_VERSIONS:
            return True
        if version in MODERN_VERSIONS:
            return False
        meta = (message.params or {}).get("_meta")
        if isinstance(meta, dict) and t.PROTOCOL_VERSION_META_KEY in meta:
            return False  # let the modern ladder report mismatch or unsupported version in spec order
        raise unsupported_version(version, message.id)

    # --- handshake era -------------------------------------------------

    def _handle_legacy(self, message: Message, ctx: ToolContext, headers: Mapping[str, str] | None) -> Reply:
        if message.kind != "request":
            return Reply(202)
        assert message.method is not None
        handler = self._legacy.get(message.method)
        if handler is None:
            raise method_not_found(message.method, sorted(self._legacy), message.id)
        if message.method == "initialize":
            version = negotiate_handshake((message.params or {}).get("protocolVersion"))
        else:
            version = (headers or {}).get(MCP_PROTOCOL_VERSION_HEADER) or DEFAULT_HEADERLESS_VERSION
        _validate_params(message, version)
        result = handler(message, version, ctx)
        if isinstance(result, EncodedResult):
            return Reply(200, encoded=_encoded_response(message.id, result))
        return Reply(200, _response(message.id, methods.serialize_server_result(message.method, version, result)))

    def _initialize(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        return {
            "protocolVersion": version,
            "capabilities": self._capabilities,
            "serverInfo": self._server_info,
            "instructions": self._identity.instructions,
        }

    # --- stateless era -------------------------------------------------

    def _handle_modern(
        self,
        decoded: Any,
        message: Message,
        ctx: ToolContext,
        headers: Mapping[str, str] | None,
        raw_headers: Iterable[tuple[str, str]],
    ) -> Reply:
        if message.kind == "notification":
            # No client-to-server notification means anything to a stateless server.
            return Reply(202)
        if message.kind == "response":
            raise invalid_request("This server sends no requests, so it accepts no JSON-RPC responses")
        duplicated = find_duplicated_routing_header(raw_headers)
        if duplicated is not None:
            raise ProtocolError(HEADER_MISMATCH, f"{duplicated} header appears more than once", request_id=message.id)
        verdict = classify_inbound_request(decoded, headers=headers, supported_modern_versions=MODERN_VERSIONS)
        if isinstance(verdict, InboundLadderRejection):
            raise ProtocolError(verdict.code, verdict.message, data=verdict.data, request_id=message.id)
        assert message.method is not None
        handler = self._modern.get(message.method)
        if handler is None:
            raise method_not_found(message.method, sorted(self._modern), message.id)
        _validate_params(message, verdict.protocol_version)
        if message.method == "tools/call" and headers is not None:
            self._check_param_headers(message, headers)
        result = handler(message, verdict.protocol_version, ctx)
        if isinstance(result, EncodedResult):
            return Reply(200, encoded=_encoded_response(message.id, result))
        body = methods.serialize_server_result(message.method, verdict.protocol_version, self._complete_modern(result))
        return Reply(200, _response(message.id, body))

    def _complete_modern(self, result: dict[str, Any]) -> dict[str, Any]:
        """Fields every stateless-era result carries."""
        result.setdefault("resultType", "complete")
        result["_meta"] = {t.SERVER_INFO_META_KEY: self._server_info}
        return result

    def _discover(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        return {
            "supportedVersions": list(ALL_SERVED_VERSIONS),
            "capabilities": self._capabilities,
            "instructions": self._identity.instructions,
            "ttlMs": _TOOL_LIST_TTL_MS,
            "cacheScope": "public",
        }

    def _check_param_headers(self, message: Message, headers: Mapping[str, str]) -> None:
        params = message.params or {}
        name, arguments = params.get("name"), params.get("arguments") or {}
        spec = self._registry.spec(name)
        if spec is None or not isinstance(arguments, dict):
            return
        rejection = validate_mcp_param_headers(spec.input_schema, arguments, headers)
        if rejection is not None:
            raise ProtocolError(rejection.code, rejection.message, request_id=message.id)

    # --- methods shared by both eras -----------------------------------

    def _tools_list(self, message: Message, version: str, ctx: ToolContext) -> EncodedResult:
        if (message.params or {}).get("cursor") is not None:
            raise invalid_params("Invalid cursor: this server lists every tool in one page", message.id)
        visible = tuple(spec.name for spec in self._registry.specs() if self._policy.allows(spec, ctx.principal))
        # Few distinct keys exist (protocol versions x scope classes), so the cache needs no bound.
        key = (version, visible)
        cached = self._tool_lists.get(key)
        if cached is None:
            cached = self._tool_lists[key] = self._encode_tools_list(version, visible)
        return cached

    def _encode_tools_list(self, version: str, visible: tuple[str, ...]) -> EncodedResult:
        result: dict[str, Any] = {"tools": self._registry.wire_tools(list(visible))}
        if version in MODERN_VERSIONS:
            # With authentication the list may depend on the token's scopes: never share it between callers.
            result.update(ttlMs=_TOOL_LIST_TTL_MS, cacheScope="private" if self._policy.per_caller else "public")
            result = self._complete_modern(result)
        wire = methods.serialize_server_result("tools/list", version, result)
        return EncodedResult(json.dumps(wire, separators=(",", ":")))

    def _tools_call(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        params = message.params or {}
        arguments = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
        started = time.monotonic()
        outcome = "unknown_tool"
        spec = self._registry.spec(params.get("name"))
        if spec is not None and not self._policy.allows(spec, ctx.principal):
            audit.info("tool call refused", extra={
                "event": "tool_call", "request_id": ctx.request_id, "subject": ctx.principal.subject,
                "client_id": ctx.principal.client_id, "tool": spec.name, "namespace": arguments.get("namespace"),
                "context": _context_of(arguments, ctx), "outcome": "insufficient_scope", "duration_ms": 0.0,
            })
            metrics.TOOL_CALLS.labels(tool=spec.name, outcome="insufficient_scope").inc()
            raise InsufficientScope(spec.name, self._policy.scopes_needed(spec), message.id)
        if spec is not None and spec.input_rounds:
            # The tool runs its own input rounds: it gets what came back; the confirmation path stays out.
            ctx, refused = replace(ctx, input_round=_input_round(params, version, message.id, strict=True)), None
        else:
            ctx, refused = self._confirmations.for_call(params, version, ctx, params.get("name"), arguments,
                                                        message.id)
        try:
            if refused is not None:  # the person declined or cancelled: the tool does not run
                outcome = "declined"
                return refused
            try:
                result = self._input_rounds(message, version, self._registry.call, params["name"],
                                            params.get("arguments"), ctx)
            except _NeedsModern as exc:
                result = error_result(str(exc))
            outcome = "input_required" if result.get("resultType") == "input_required" else (
                "error" if result.get("isError") else "ok")
            return result
        except PersonConfirmationNeeded as need:
            outcome = "input_required"
            return self._confirmations.ask(need, ctx, params["name"], arguments)
        except ProtocolError:
            outcome = "refused"  # input responses, a request state or a capability the call cannot use
            raise
        except UnknownToolError as exc:
            raise invalid_params(str(exc), message.id) from None
        finally:
            seconds = time.monotonic() - started
            # Only registered names become label values: a caller cannot mint new time series.
            tool = spec.name if spec is not None else "unknown"
            metrics.TOOL_CALLS.labels(tool=tool, outcome=outcome if spec is None or outcome != "unknown_tool"
                                      else "exception").inc()
            metrics.TOOL_CALL_SECONDS.labels(tool=tool).observe(seconds)
            audit.info("tool call", extra={
                "event": "tool_call", "request_id": ctx.request_id, "subject": ctx.principal.subject,
                "client_id": ctx.principal.client_id, "tool": params.get("name"),
                "namespace": arguments.get("namespace"), "context": _context_of(arguments, ctx), "outcome": outcome,
                "duration_ms": round(seconds * 1000, 1),
                "impersonated": ctx.kube.runs_as if ctx.settings.kube_impersonate else None,
                # Who allowed a destructive change, and how: "person" (elicitation) or "argument" (confirm).
                "confirmed_by": ctx.confirmation.record.how, "confirmed": ctx.confirmation.record.action,
                # As the API server authenticated the caller (impersonation, or the exchanged token).
                "kube_user": ctx.kube.runs_as,
            })

    # --- resources, prompts, completions (read-only, live from Kubernetes) ---

    def _cacheable(self, result: dict[str, Any], version: str, ttl_ms: int) -> dict[str, Any]:
        if version in MODERN_VERSIONS:
            # Content depends on the caller's Kubernetes view (namespaces, impersonation).
            result.update(ttlMs=ttl_ms, cacheScope="private")
        return result

    def _input_rounds(self, message: Message, version: str, fn: Callable[..., T], *args: Any) -> T | dict[str, Any]:
        """Call a handler that may run input rounds (app/tools/input_rounds.py); its input-required
        result is returned as is (2026-07-28), its other signals become the protocol's errors.

        Raises:
            ProtocolError: -32021 for a client capability the request needs, -32602 for input responses
                or a request state the handler cannot use.
            _NeedsModern: an input round or capability in the handshake era (the caller decides the answer).
        """
        modern = version in MODERN_VERSIONS
        try:
            return fn(*args)
        except InputRequired as need:
            if not modern:
                raise _NeedsModern(
                    "This request needs an answer from the client (an input-required result), which only protocol "
                    "2026-07-28 carries: a stateless server sends no requests to the client in the handshake era."
                ) from None
            return need.result()
        except MissingClientCapability as exc:
            if not modern:
                raise _NeedsModern(f"{exc} (declared per request in protocol 2026-07-28)") from None
            raise ProtocolError(MISSING_REQUIRED_CLIENT_CAPABILITY, str(exc),
                                data={"requiredCapabilities": exc.required}, request_id=message.id) from None
        except InvalidInputRound as exc:
            raise invalid_params(str(exc), message.id) from None

    def _resources_list(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        self._no_cursor(message)
        listed = _content_call(message.id, mcp_resources.list_resources, ctx) + self._content.resources(ctx)
        return self._cacheable({"resources": listed}, version, 5_000)

    def _resource_templates_list(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        self._no_cursor(message)
        listed = mcp_resources.templates(ctx) + self._content.resource_templates(ctx)
        return self._cacheable({"resourceTemplates": listed}, version, _TOOL_LIST_TTL_MS)

    def _resources_read(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        uri = (message.params or {})["uri"]
        ctx = replace(ctx, input_round=_input_round(message.params or {}, version, message.id))
        try:
            extra = self._provided(message, version, self._content.read_resource, uri, ctx)
            if isinstance(extra, dict):  # an input-required result
                return extra
            if extra is not None:
                return self._cacheable({"contents": extra}, version, 5_000)
            contents = _content_call(message.id, mcp_resources.read_resource, uri, ctx)
        except mcp_resources.ResourceNotFound as exc:
            # 2025-11-25 names a dedicated code; 2026-07-28 (SEP-2164) folds it into -32602 with the URI.
            code = INVALID_PARAMS if version in MODERN_VERSIONS else RESOURCE_NOT_FOUND
            raise ProtocolError(code, str(exc), data={"uri": uri}, request_id=message.id) from None
        return self._cacheable({"contents": contents}, version, 5_000)

    def _prompts_list(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        self._no_cursor(message)
        listed = prompts.list_prompts(ctx, self._prompts) + self._content.prompts(ctx)
        return self._cacheable({"prompts": listed}, version, _TOOL_LIST_TTL_MS)

    def _prompts_get(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        params = message.params or {}
        ctx = replace(ctx, input_round=_input_round(params, version, message.id))
        try:
            arguments = dict(params.get("arguments") or {})
            extra = self._provided(message, version, self._content.get_prompt, params["name"], arguments, ctx)
            if extra is not None:
                return extra
            return _content_call(message.id, prompts.get_prompt, params["name"], arguments, ctx, self._registry.call,
                                 self._prompts)
        except prompts.UnknownPrompt as exc:
            raise invalid_params(str(exc), message.id) from None

    def _complete(self, message: Message, version: str, ctx: ToolContext) -> dict[str, Any]:
        params = message.params or {}
        argument = params["argument"]
        context = dict((params.get("context") or {}).get("arguments") or {})
        completion = _content_call(
            message.id, completions.complete, argument["name"], argument.get("value", ""), context, ctx
        )
        return {"completion": completion}

    def _provided(self, message: Message, version: str, fn: Callable[..., T], *args: Any) -> T | dict[str, Any]:
        """A content provider's answer (None: not the provider's), with its input rounds and argument errors."""
        try:
            return self._input_rounds(message, version, _content_call, message.id, fn, *args)
        except _NeedsModern as exc:
            raise invalid_params(str(exc), message.id) from None
        except InvalidArguments as exc:
            raise invalid_params(str(exc), message.id) from None

    def _no_cursor(self, message: Message) -> None:
        if (message.params or {}).get("cursor") is not None:
            raise invalid_params("Invalid cursor: this server lists everything in one page", message.id)

    # --- replies -------------------------------------------------------

    def _error_reply(self, request_id: RequestId | None, code: int, message: str, data: Any, *, legacy: bool) -> Reply:
        if code == INTERNAL_ERROR:
            status = 500
        elif legacy:
            status = _LEGACY_HTTP_STATUS.get(code, 200)
        else:
            status = ERROR_CODE_HTTP_STATUS.get(code, 200)
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        return Reply(status, {"jsonrpc": "2.0", "id": request_id, "error": error})


def _content_call(request_id: RequestId | None, fn: Callable[..., T], *args: Any) -> T:
    """Resources, prompts and completions are protocol results, so a failure is a JSON-RPC error
    carrying the same model-ready message a tool would give (never a traceback)."""
    try:
        return fn(*args)
    except DOMAIN_ERRORS as exc:
        raise ProtocolError(KUBERNETES_ERROR, str(exc), request_id=request_id) from None


class _NeedsModern(Exception):
    """A handler asked for an input round or a declared capability in the handshake era."""


def _input_round(params: Mapping[str, Any], version: str, request_id: RequestId | None, *,
                 strict: bool = False) -> InputRound:
    """What a handler with its own input rounds gets from the request (nothing in the handshake era).

    `strict` (a tool declared with `input_rounds`): malformed fields are refused; otherwise (resources and
    prompts, which the product serves too and which never looked at these fields) they are left out.

    Raises:
        ProtocolError: strict only, -32602 for `inputResponses` that is not an object or a `requestState`
            that is not a string.
    """
    if version not in MODERN_VERSIONS:
        return InputRound()
    responses, state = params.get("inputResponses"), params.get("requestState")
    if strict and "inputResponses" in params and not isinstance(responses, dict):
        raise invalid_params("inputResponses must be an object mapping each inputRequests key to its answer",
                             request_id)
    if strict and "requestState" in params and not isinstance(state, str):
        raise invalid_params("requestState must be the string this server returned", request_id)
    responses = responses if isinstance(responses, dict) else None
    state = state if isinstance(state, str) else None
    meta = params.get("_meta")
    capabilities = meta.get(t.CLIENT_CAPABILITIES_META_KEY) if isinstance(meta, dict) else None
    return InputRound(modern=True, responses=responses, request_state=state,
                      client_capabilities=dict(capabilities) if isinstance(capabilities, dict) else {})


def _context_of(arguments: dict[str, Any], ctx: ToolContext) -> str | None:
    """The kubeconfig context a call names, else the default one (None with a single cluster)."""
    chosen = arguments.get("context")
    return chosen if isinstance(chosen, str) else ctx.kube.context


def _response(request_id: RequestId | None, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _encoded_response(request_id: RequestId | None, result: EncodedResult) -> str:
    """The same message as `_response`, with the result's JSON spliced in rather than re-encoded."""
    return f'{{"jsonrpc":"2.0","id":{json.dumps(request_id)},"result":{result.text}}}'


def _validate_params(message: Message, version: str) -> None:
    """Check params against the method's schema for that protocol version.

    Raises:
        ProtocolError: -32601 when the method does not exist in that version,
            -32602 naming the first bad field otherwise.
    """
    assert message.method is not None
    try:
        methods.validate_client_request(message.method, version, message.params)
    except KeyError:
        raise ProtocolError(
            METHOD_NOT_FOUND, f"Method {message.method!r} does not exist in protocol version {version}", request_id=message.id
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if part not in ("params",)) or "params"
        raise invalid_params(f"Invalid params for {message.method!r}: {where}: {first['msg']}", message.id) from None
