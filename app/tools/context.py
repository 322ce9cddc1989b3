"""What a tool handler receives besides its arguments."""

from __future__ import annotations

from dataclasses import dataclass

from app.identity import ANONYMOUS, Principal
from app.kube import Identity, KubeAccess
from app.settings import Settings


@dataclass(frozen=True)
class ToolContext:
    """Per-call context passed explicitly (no Flask globals below the transport)."""

    request_id: str
    principal: Principal = ANONYMOUS
    kube: KubeAccess | None = None
    """This worker's Kubernetes access (its client is created on first use)."""
    settings: Settings | None = None
    identity: Identity | None = None
    """Kubernetes identity to impersonate; None runs as the server's own identity."""
