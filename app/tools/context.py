"""What a tool handler receives besides its arguments, and the one place it is made."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.identity import Principal
from app.kube import KubeContexts, KubeSession
from app.settings import Settings
from app.tools.confirmation import Confirmation
from app.tools.input_rounds import InputRound


@dataclass(frozen=True)
class ToolContext:
    """Per-call context passed explicitly (no Flask globals below the transport)."""

    request_id: str
    principal: Principal
    settings: Settings
    kube: KubeSession
    """Which cluster, as whom, and where: every Kubernetes call of the handler goes through it."""
    confirmation: Confirmation = field(default_factory=Confirmation)
    """Who confirms destructive changes in this call (set by the protocol layer for tools/call)."""
    input_round: InputRound = field(default_factory=InputRound)
    """What the client sent back for a handler's own input rounds (app/tools/input_rounds.py): set by the
    protocol layer only for tools declared with `input_rounds` and for extra content providers."""

    def in_context(self, name: str) -> ToolContext:
        """The same call aimed at another allowed kubeconfig context (the `context` argument).

        Raises:
            ContextNotServed: `name` is not an allowed context.
        """
        return replace(self, kube=self.kube.in_context(name))


def new_tool_context(request_id: str, principal: Principal, settings: Settings, contexts: KubeContexts) -> ToolContext:
    """The context of one request, as both transports (HTTP and stdio) build it.

    Raises:
        CallerNotMapped: impersonation is on and the caller's token cannot be mapped to a Kubernetes user.
    """
    return ToolContext(request_id=request_id, principal=principal, settings=settings,
                       kube=contexts.session(principal))
