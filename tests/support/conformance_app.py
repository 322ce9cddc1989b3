"""WSGI app for the conformance suite: the real server plus the suite's fixtures (test-only).

`@modelcontextprotocol/conformance` checks a server through fixtures it names — tools such as
`test_simple_text` or `test_input_required_result_elicitation`, resources under `test://`, prompts such
as `test_simple_prompt` — that a product does not ship. This app serves them next to the product's real
tools, resources and prompts, through the product's real dispatch and the small hooks it has for them:
`ToolSpec(builds_content=True)` (whole CallToolResults: images, audio, embedded resources, `isError`),
`ToolSpec(input_rounds=True)` with app/tools/input_rounds.py (input-required results), and a
`ContentProvider` (app/protocol/providers.py) for resources and prompts.

Input rounds are real: every fixture that keeps state between rounds signs it with the product's
`RequestStates` (bound to the caller, the tool and the arguments), and a tampered or foreign state is
refused with -32602. What a stateless, JSON-only server cannot do (log or progress notifications,
requests to the client over SSE in the handshake era, subscriptions) the fixtures do not fake: those
checks stay failing, and tests/conformance/expected-failures.yml says why.

Run as `gunicorn -c gunicorn.conf.py tests.support.conformance_app:app`. Every worker must sign with the
same key: MCP_REQUEST_STATE_KEY when set, else a fixed test-only key.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import wave
import zlib
from typing import Any

from app import create_app
from app.protocol.providers import ContentProvider, InvalidArguments
from app.protocol.request_state import InvalidRequestState, IssuedFor, RequestStates
from app.settings import Settings
from app.tools.catalog import tools_in
from app.tools.context import ToolContext
from app.tools.input_rounds import InputRequired, InvalidInputRound, MissingClientCapability
from app.tools.registry import Registry
from app.tools.spec import ToolHints, ToolSpec

_TEST_KEY = "conformance-fixtures-test-only-request-state-key"
_PURPOSE = "conformance-fixture"
_READ = ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False)
_NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


# ----- content --------------------------------------------------------------------------------------

def _png_1x1_red() -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then one red pixel
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def _wav_silence() -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 80)  # 10 ms of silence
    return base64.b64encode(buffer.getvalue()).decode()


PNG = _png_1x1_red()
WAV = _wav_silence()


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _image() -> dict[str, Any]:
    return {"type": "image", "data": PNG, "mimeType": "image/png"}


def _result(*content: dict[str, Any], is_error: bool = False) -> dict[str, Any]:
    return {"content": list(content), "isError": is_error}


# ----- input rounds -----------------------------------------------------------------------------------

def _elicit(message: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"method": "elicitation/create", "params": {
        "mode": "form", "message": message,
        "requestedSchema": {"type": "object", "properties": properties, "required": required}}}


def _sample(text: str, max_tokens: int) -> dict[str, Any]:
    return {"method": "sampling/createMessage", "params": {
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}], "maxTokens": max_tokens}}


_ROOTS: dict[str, Any] = {"method": "roots/list", "params": {}}


class Rounds:
    """The input rounds of one fixture call: answers that came back, and signed state between rounds."""

    def __init__(self, ctx: ToolContext, tool: str, arguments: dict[str, Any]) -> None:
        self._ctx = ctx
        self._states = RequestStates(ctx.settings.request_state_key or _TEST_KEY, ctx.settings.confirm_ttl_seconds)
        self._bound = IssuedFor(subject=ctx.principal.subject, tool=tool, arguments=arguments, purpose=_PURPOSE)
        self.round = ctx.input_round

    def state(self, step: str) -> str:
        """A signed state saying which step the call is at (and what it learnt so far)."""
        return self._states.issue(self._bound, step)

    def checked_step(self) -> str | None:
        """The step the echoed requestState names; None when none came.

        Raises:
            InvalidInputRound: the state was changed, expired, or issued for another call (-32602).
        """
        if self.round.request_state is None:
            return None
        try:
            return self._states.check(self.round.request_state, self._bound)
        except InvalidRequestState as exc:
            raise InvalidInputRound(f"Invalid requestState: {exc}") from None

    def answer(self, key: str) -> dict[str, Any] | None:
        """The answer under `key`; None when the client did not send it.

        Raises:
            InvalidInputRound: the answer is not an object (-32602).
        """
        responses = self.round.responses or {}
        if key not in responses:
            return None
        value = responses[key]
        if not isinstance(value, dict):
            raise InvalidInputRound(f"inputResponses.{key} must be the answer object of the request asked under "
                                    f"{key!r}")
        return value

    def accepted(self, key: str, field: str) -> Any:
        """The accepted elicitation's `field`, None when declined or cancelled.

        Raises:
            InvalidInputRound: the answer is not an ElicitResult carrying `field` when accepted.
        """
        answer = self.answer(key)
        if answer is None:
            return None
        action = answer.get("action")
        if action not in ("accept", "decline", "cancel"):
            raise InvalidInputRound(f"inputResponses.{key} must be an elicitation answer with an action")
        if action != "accept":
            return None
        content = answer.get("content")
        if not isinstance(content, dict) or field not in content:
            raise InvalidInputRound(f"inputResponses.{key}.content must hold {field!r}")
        return content[field]


def _sampled_text(answer: dict[str, Any]) -> str:
    content = answer.get("content")
    blocks = content if isinstance(content, list) else [content]
    texts = [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]
    if not texts:
        raise InvalidInputRound("the sampling answer must be a CreateMessageResult with text content")
    return " ".join(texts)


def _roots(answer: dict[str, Any]) -> list[str]:
    roots = answer.get("roots")
    if not isinstance(roots, list) or not all(isinstance(r, dict) and isinstance(r.get("uri"), str) for r in roots):
        raise InvalidInputRound("the roots/list answer must be a ListRootsResult with a roots array")
    return [r["uri"] for r in roots]


# ----- tools ------------------------------------------------------------------------------------------

def _content_tool(name: str, description: str, handler: Any, input_schema: dict[str, Any] | None = None,
                  input_rounds: bool = False) -> ToolSpec:
    return ToolSpec(name=name, title=name, description=description, input_schema=input_schema or _NO_ARGS,
                    output_schema=None, hints=_READ, handler=handler, builds_content=True,
                    input_rounds=input_rounds)


def _one_string(name: str, description: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": "string", "description": description}},
            "required": [name], "additionalProperties": False}


def _embedded(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return _result({"type": "resource", "resource": {
        "uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."}})


def _mixed(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return _result(_text("Multiple content types test:"), _image(), {"type": "resource", "resource": {
        "uri": "test://mixed-content-resource", "mimeType": "application/json",
        "text": json.dumps({"test": "data", "value": 123})}})


def _no_notifications(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    # A JSON-only server answers with one JSON body: it has no stream to send log or progress
    # notifications on, so the tool just completes.
    return _result(_text("Tool execution completed (this server sends no notifications: it answers in JSON only)"))


def _ask_one(tool: str, key: str, request: dict[str, Any], done: Any, needs: str) -> Any:
    """A fixture asking one question in one round (no state: the question is the whole state)."""
    def handler(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        rounds = Rounds(ctx, tool, args)
        if rounds.round.modern and not rounds.round.declares(needs):
            raise MissingClientCapability({needs: {}})
        answer = rounds.answer(key)
        if answer is None:
            raise InputRequired({key: request(args) if callable(request) else request})
        return _result(_text(done(answer)))
    return handler


def _user_response(answer: dict[str, Any]) -> str:
    return f"User response: action={answer.get('action')}, content={json.dumps(answer.get('content') or {})}"


def _elicitation_done(answer: dict[str, Any]) -> str:
    return f"Elicitation completed: action={answer.get('action')}, content={json.dumps(answer.get('content') or {})}"


_SEP1034 = _elicit("Please review your details", {
    "name": {"type": "string", "default": "John Doe"},
    "age": {"type": "integer", "default": 30},
    "score": {"type": "number", "default": 95.5},
    "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
    "verified": {"type": "boolean", "default": True},
}, [])
_SEP1330 = _elicit("Pick your options", {
    "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
    "titledSingle": {"type": "string", "oneOf": [{"const": "value1", "title": "First Option"},
                                                  {"const": "value2", "title": "Second Option"},
                                                  {"const": "value3", "title": "Third Option"}]},
    "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                   "enumNames": ["Option One", "Option Two", "Option Three"]},
    "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
    "titledMulti": {"type": "array", "items": {"anyOf": [{"const": "value1", "title": "First Choice"},
                                                          {"const": "value2", "title": "Second Choice"},
                                                          {"const": "value3", "title": "Third Choice"}]}},
}, [])
_NAME = _elicit("What is your name?", {"name": {"type": "string"}}, ["name"])


def _ir_elicitation(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Ephemeral round (no state): ask for a name until an answer under `user_name` comes back."""
    rounds = Rounds(ctx, "test_input_required_result_elicitation", args)
    name = rounds.accepted("user_name", "name")
    if rounds.answer("user_name") is None:
        raise InputRequired({"user_name": _NAME})  # not answered (or answered under other keys): ask again
    if name is None:
        return _result(_text("You did not tell your name."))
    if not isinstance(name, str):
        raise InvalidInputRound("inputResponses.user_name.content.name must be a string")
    return _result(_text(f"Hello, {name}!"))


def _ir_request_state(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    rounds = Rounds(ctx, "test_input_required_result_request_state", args)
    step = rounds.checked_step()
    ok = rounds.accepted("confirm", "ok") if step == "confirm" else None
    if step != "confirm" or rounds.answer("confirm") is None:
        raise InputRequired({"confirm": _elicit("Please confirm", {"ok": {"type": "boolean"}}, ["ok"])},
                            rounds.state("confirm"))
    return _result(_text(f"state-ok: the signed requestState came back; confirmed={ok is True}"))


_TAMPER_KEY = "confirm"


def _ir_tampered_state(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    rounds = Rounds(ctx, "test_input_required_result_tampered_state", args)
    step = rounds.checked_step()  # a changed state fails the signature: -32602
    if step != "confirm" or rounds.answer(_TAMPER_KEY) is None:
        raise InputRequired({_TAMPER_KEY: _elicit("Please confirm", {"ok": {"type": "boolean"}}, ["ok"])},
                            rounds.state("confirm"))
    return _result(_text("state-ok: the requestState's signature holds"))


_MULTIPLE = {"user_name": _NAME, "greeting": _sample("Generate a greeting", 50), "client_roots": _ROOTS}


def _ir_multiple(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    rounds = Rounds(ctx, "test_input_required_result_multiple_inputs", args)
    step = rounds.checked_step()
    missing = {k: v for k, v in _MULTIPLE.items() if step != "all" or rounds.answer(k) is None}
    if missing:
        raise InputRequired(missing, rounds.state("all"))
    name = rounds.accepted("user_name", "name")
    greeting = _sampled_text(rounds.answer("greeting") or {})
    roots = _roots(rounds.answer("client_roots") or {})
    return _result(_text(f"name={name!r}, greeting={greeting!r}, roots={', '.join(roots) or 'none'}"))


def _ir_multi_round(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Three rounds; what was learnt travels in the signed state (`step2:<name>`)."""
    rounds = Rounds(ctx, "test_input_required_result_multi_round", args)
    step = rounds.checked_step()
    if step and step.startswith("step2:") and rounds.answer("step2") is not None:
        color = rounds.accepted("step2", "color")
        return _result(_text(f"{step.removeprefix('step2:')} likes {color or 'no colour in particular'}"))
    if step == "step1" and rounds.answer("step1") is not None:
        name = rounds.accepted("step1", "name") or "someone"
        raise InputRequired({"step2": _elicit("Step 2: What is your favorite color?", {"color": {"type": "string"}},
                                              ["color"])}, rounds.state(f"step2:{name}"))
    raise InputRequired({"step1": _elicit("Step 1: What is your name?", {"name": {"type": "string"}}, ["name"])},
                        rounds.state("step1"))


def _ir_capabilities(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Asks only what the client declared it can answer."""
    rounds = Rounds(ctx, "test_input_required_result_capabilities", args)
    offered = {"user_name": ("elicitation", _NAME), "capital_question": ("sampling", _sample(
        "What is the capital of France?", 100)), "client_roots": ("roots", _ROOTS)}
    wanted = {k: request for k, (capability, request) in offered.items() if rounds.round.declares(capability)}
    if not wanted:
        raise MissingClientCapability({"sampling": {}}, "This tool needs at least one of the client capabilities "
                                      "elicitation, sampling or roots")
    step = rounds.checked_step()
    if step != "asked" or any(rounds.answer(k) is None for k in wanted):
        raise InputRequired(wanted, rounds.state("asked"))
    return _result(_text(f"Answered: {', '.join(sorted(wanted))}"))


def _needs_sampling(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """SEP-2575 diagnostic: needs the sampling capability, so an undeclared one is -32021."""
    rounds = Rounds(ctx, "test_missing_capability", args)
    if not rounds.round.declares("sampling"):
        raise MissingClientCapability({"sampling": {}}, "test_missing_capability needs the client capability "
                                      "sampling, which the request's clientCapabilities does not declare")
    answer = rounds.answer("completion")
    if answer is None:
        raise InputRequired({"completion": _sample("Say hello", 20)})
    return _result(_text(f"Sampled: {_sampled_text(answer)}"))


def _json_schema_tool(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return _result(_text(f"Received: {json.dumps(args, sort_keys=True)}"))


_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"address": {"$anchor": "addressDef", "type": "object",
                          "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"},
                   "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                   "phone": {"type": "string"}, "email": {"type": "string"}},
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}

FIXTURE_TOOLS = [
    _content_tool("test_simple_text", "Returns simple text.",
                  lambda a, c: _result(_text("This is a simple text response for testing."))),
    _content_tool("test_image_content", "Returns a 1x1 red PNG.", lambda a, c: _result(_image())),
    _content_tool("test_audio_content", "Returns a short WAV.",
                  lambda a, c: _result({"type": "audio", "data": WAV, "mimeType": "audio/wav"})),
    _content_tool("test_embedded_resource", "Returns an embedded text resource.", _embedded),
    _content_tool("test_multiple_content_types", "Returns text, an image and an embedded resource.", _mixed),
    _content_tool("test_error_handling", "Always fails with a tool error.", lambda a, c: _result(
        _text("This tool intentionally returns an error for testing"), is_error=True)),
    _content_tool("test_tool_with_logging", "Would log during execution (no notifications here).",
                  _no_notifications),
    _content_tool("test_tool_with_progress", "Would report progress (no notifications here).", _no_notifications),
    _content_tool("test_reconnection", "SEP-1699: would close its SSE stream mid-call (this server answers in JSON).",
                  _no_notifications),
    _content_tool("test_logging_tool", "SEP-2575 diagnostic: logs nothing unless asked (never, here).",
                  _no_notifications),
    _content_tool("test_sampling", "Asks the client's LLM (2026-07-28 input round).",
                  _ask_one("test_sampling", "llm", lambda a: _sample(a["prompt"], 100),
                           lambda r: f"LLM response: {_sampled_text(r)}", "sampling"),
                  _one_string("prompt", "The prompt to send to the LLM"), input_rounds=True),
    _content_tool("test_elicitation", "Asks the user (2026-07-28 input round).",
                  _ask_one("test_elicitation", "user", lambda a: _elicit(a["message"], {
                      "username": {"type": "string", "description": "User's response"},
                      "email": {"type": "string", "description": "User's email address"}}, ["username", "email"]),
                      _user_response, "elicitation"),
                  _one_string("message", "The message to show the user"), input_rounds=True),
    _content_tool("test_elicitation_sep1034_defaults", "Asks with defaults for every primitive type.",
                  _ask_one("test_elicitation_sep1034_defaults", "details", _SEP1034, _elicitation_done,
                           "elicitation"), input_rounds=True),
    _content_tool("test_elicitation_sep1330_enums", "Asks with all five enum forms.",
                  _ask_one("test_elicitation_sep1330_enums", "choices", _SEP1330, _elicitation_done,
                           "elicitation"), input_rounds=True),
    _content_tool("test_streaming_elicitation", "SEP-2575 diagnostic: asks the user through an input-required "
                  "result, never a request on the response stream.",
                  _ask_one("test_streaming_elicitation", "user_name", _NAME, _user_response, "elicitation"),
                  input_rounds=True),
    _content_tool("test_missing_capability", "SEP-2575 diagnostic: needs the sampling capability.",
                  _needs_sampling, input_rounds=True),
    _content_tool("test_input_required_result_elicitation", "Asks a name (one ephemeral round).", _ir_elicitation,
                  input_rounds=True),
    _content_tool("test_input_required_result_sampling", "Asks the client's LLM a question.", _ask_one(
        "test_input_required_result_sampling", "capital_question", _sample("What is the capital of France?", 100),
        _sampled_text, "sampling"), input_rounds=True),
    _content_tool("test_input_required_result_list_roots", "Asks the client's roots.", _ask_one(
        "test_input_required_result_list_roots", "client_roots", _ROOTS,
        lambda r: f"Roots: {', '.join(_roots(r)) or 'none'}", "roots"), input_rounds=True),
    _content_tool("test_input_required_result_request_state", "Round-trips a signed requestState.",
                  _ir_request_state, input_rounds=True),
    _content_tool("test_input_required_result_multiple_inputs", "Asks three things at once.", _ir_multiple,
                  input_rounds=True),
    _content_tool("test_input_required_result_multi_round", "Asks in two rounds, then answers.", _ir_multi_round,
                  input_rounds=True),
    _content_tool("test_input_required_result_tampered_state", "Refuses a changed requestState.",
                  _ir_tampered_state, input_rounds=True),
    _content_tool("test_input_required_result_capabilities", "Asks only what the client declared.",
                  _ir_capabilities, input_rounds=True),
    _content_tool("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features", _json_schema_tool,
                  input_schema=_SCHEMA_2020_12),
]


# ----- resources and prompts --------------------------------------------------------------------------

_TEMPLATE = re.compile(r"^test://template/(?P<id>[^/]+)/data$")
_RESOURCES = {
    "test://static-text": ("Static text", "text/plain", {"text": "This is the content of the static text resource."}),
    "test://static-binary": ("Static binary", "image/png", {"blob": PNG}),
    "test://watched-resource": ("Watched resource", "text/plain", {
        "text": "A resource to watch (this server offers no subscriptions)."}),
}


def _prompt(name: str, description: str, *arguments: tuple[str, str]) -> dict[str, Any]:
    return {"name": name, "description": description,
            "arguments": [{"name": n, "description": d, "required": True} for n, d in arguments]}


class Fixtures(ContentProvider):
    """The suite's `test://` resources and `test_*` prompts."""

    def resources(self, ctx: ToolContext) -> list[dict[str, Any]]:
        return [{"uri": uri, "name": uri.removeprefix("test://"), "title": title, "description": f"{title} (fixture)",
                 "mimeType": mime} for uri, (title, mime, _) in _RESOURCES.items()]

    def resource_templates(self, ctx: ToolContext) -> list[dict[str, Any]]:
        return [{"uriTemplate": "test://template/{id}/data", "name": "template-data", "title": "Data by id",
                 "description": "JSON data for an id (fixture)", "mimeType": "application/json"}]

    def read_resource(self, uri: str, ctx: ToolContext) -> list[dict[str, Any]] | None:
        if uri in _RESOURCES:
            _, mime, body = _RESOURCES[uri]
            return [{"uri": uri, "mimeType": mime, **body}]
        match = _TEMPLATE.fullmatch(uri)
        if match:
            data = {"id": match["id"], "templateTest": True, "data": f"Data for ID: {match['id']}"}
            return [{"uri": uri, "mimeType": "application/json", "text": json.dumps(data)}]
        return None

    def prompts(self, ctx: ToolContext) -> list[dict[str, Any]]:
        return [
            _prompt("test_simple_prompt", "A simple prompt without arguments"),
            _prompt("test_prompt_with_arguments", "A prompt with two arguments", ("arg1", "First test argument"),
                    ("arg2", "Second test argument")),
            _prompt("test_prompt_with_embedded_resource", "A prompt embedding a resource",
                    ("resourceUri", "URI of the resource to embed")),
            _prompt("test_prompt_with_image", "A prompt with an image"),
            _prompt("test_input_required_result_prompt", "A prompt that asks the user for context first"),
        ]

    def get_prompt(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> dict[str, Any] | None:
        declared = next((p for p in self.prompts(ctx) if p["name"] == name), None)
        if declared is None:
            return None
        missing = [a["name"] for a in declared["arguments"] if not isinstance(arguments.get(a["name"]), str)]
        if missing:
            raise InvalidArguments(f"Prompt {name!r} needs the argument(s): {', '.join(missing)}")
        if name == "test_simple_prompt":
            messages = [_user(_text("This is a simple prompt for testing."))]
        elif name == "test_prompt_with_arguments":
            messages = [_user(_text(f"Prompt with arguments: arg1='{arguments['arg1']}', arg2='{arguments['arg2']}'"))]
        elif name == "test_prompt_with_embedded_resource":
            messages = [_user({"type": "resource", "resource": {"uri": arguments["resourceUri"], "mimeType": "text/plain",
                                                               "text": "Embedded resource content for testing."}}),
                        _user(_text("Please process the embedded resource above."))]
        elif name == "test_prompt_with_image":
            messages = [_user(_image()), _user(_text("Please analyze the image above."))]
        else:
            rounds = Rounds(ctx, f"prompt:{name}", arguments)
            context = rounds.accepted("user_context", "context")
            if rounds.answer("user_context") is None:
                raise InputRequired({"user_context": _elicit("What context should the prompt use?",
                                                             {"context": {"type": "string"}}, ["context"])})
            messages = [_user(_text(f"Answer with this context in mind: {context or 'none given'}"))]
        return {"description": declared["description"], "messages": messages}


def _user(content: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": content}


def conformance_registry(settings: Settings) -> Registry:
    """The product's tools (as MCP_TOOLSETS selects them) and the suite's fixture tools."""
    return Registry([*tools_in(settings.toolsets), *FIXTURE_TOOLS])


_settings = Settings.from_env()
app = create_app(_settings, conformance_registry(_settings), content=Fixtures())
