"""Extra resources, resource templates and prompts served next to the product's own.

The product serves its clusters as resources and its cluster prompts (app/tools/mcp_resources.py,
app/tools/prompts.py). A `ContentProvider` passed to `create_app` / `McpServer` adds entries to those
lists and answers reads and gets for its own URIs and names; everything else still goes to the
product. The product passes none: this exists so a test app can serve the conformance suite's fixtures
(tests/support/conformance_app.py) through the real dispatch, next to the real content.

A provider's `read_resource` and `get_prompt` may run input rounds (app/tools/input_rounds.py): they
read `ctx.input_round` and may raise `InputRequired` (2026-07-28 only) or `InvalidInputRound`.
"""

from __future__ import annotations

from typing import Any

from app.tools.context import ToolContext


class ContentProvider:
    """Serves nothing; subclasses override what they add. Wire dicts as the protocol's schema shapes them."""

    def resources(self, ctx: ToolContext) -> list[dict[str, Any]]:
        """Entries appended to `resources/list` (`Resource` objects)."""
        return []

    def resource_templates(self, ctx: ToolContext) -> list[dict[str, Any]]:
        """Entries appended to `resources/templates/list` (`ResourceTemplate` objects)."""
        return []

    def read_resource(self, uri: str, ctx: ToolContext) -> list[dict[str, Any]] | None:
        """The `contents` of `uri`, or None when the URI is not this provider's (the product answers)."""
        return None

    def prompts(self, ctx: ToolContext) -> list[dict[str, Any]]:
        """Entries appended to `prompts/list` (`Prompt` objects)."""
        return []

    def get_prompt(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> dict[str, Any] | None:
        """A `GetPromptResult`, or None when the prompt is not this provider's (the product answers).

        Raises:
            InvalidArguments: a required argument is missing or wrong (-32602).
        """
        return None


class InvalidArguments(ValueError):
    """A provider's prompt or resource was asked for with arguments it cannot use (JSON-RPC -32602)."""
