"""Errors a tool handler raises; the registry turns them into `isError` results."""

from app.kube.errors import KubeError


class ToolError(Exception):
    """A failure the model can act on: the message says what to change.

    Raised by handlers for business and input failures; the Kubernetes layer raises
    its own `KubeError`s (not subclasses of this one), which the registry treats the
    same way (DOMAIN_ERRORS). The message is shown to the model verbatim, so it must
    never carry tokens, passwords or raw API response bodies.
    """


class UnknownToolError(LookupError):
    """No tool with that name is registered (or visible): a protocol error, not a tool result."""

    def __init__(self, name: str, available: list[str]) -> None:
        shown = ", ".join(available) if available else "none"
        super().__init__(f"Unknown tool: {name!r}. Available tools: {shown}")
        self.name = name


# Failures whose message is written for the model: a tool's own, or the Kubernetes layer's
# (which carries the API Status message, never the raw response).
DOMAIN_ERRORS: tuple[type[Exception], ...] = (ToolError, KubeError)
