"""A tool declared as data: schema, annotations and a sync handler."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.tools.context import ToolContext

# SEP-986 tool-name grammar; the conformance suite checks it.
TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
# Our own scheme on top: <resource>_<verb>, lower snake case (cluster_list, backup_create).
PROJECT_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")

Handler = Callable[[dict[str, Any], ToolContext], Mapping[str, Any]]


@dataclass(frozen=True)
class ToolHints:
    """MCP tool annotations. All four are required: the spec's defaults
    (not read-only, destructive, not idempotent, open world) are the most
    alarming, so every tool states its behaviour explicitly."""

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool

    def __post_init__(self) -> None:
        if self.read_only and self.destructive:
            raise ValueError("a read-only tool cannot be destructive")


@dataclass(frozen=True)
class ToolSpec:
    """One tool: what the model sees (name, title, description, schemas,
    annotations) and the handler that does the work."""

    name: str
    title: str
    description: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    """Required, except for a tool that `builds_content` (None there: it returns no structured content)."""
    hints: ToolHints
    handler: Handler
    lists_across_contexts: bool = False
    """Takes `all_contexts` (when the server serves several kubeconfig contexts): one answer for all."""
    builds_content: bool = False
    """The handler returns a whole CallToolResult (a `content` list of any block types — image, audio,
    embedded resources — and `isError`), not a structured dict the registry wraps. Product tools answer
    structured data; this exists for tools whose answer is not data (the conformance suite's fixtures)."""
    input_rounds: bool = False
    """The handler runs its own 2026-07-28 input rounds (app/tools/input_rounds.py): it reads
    `ctx.input_round` and may raise `InputRequired`. Such a tool bypasses the person-confirmation path,
    so a tool that changes anything must not set it."""
