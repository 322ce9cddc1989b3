"""What a tool handler receives besides its arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    """Who is calling. Never holds the bearer token itself."""

    subject: str
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


ANONYMOUS = Principal(subject="anonymous")


@dataclass(frozen=True)
class ToolContext:
    """Per-call context passed explicitly (no Flask globals below the transport)."""

    request_id: str
    principal: Principal = ANONYMOUS
    services: Any = None
    """Per-worker service handles (e.g. Kubernetes access), created lazily by the app."""
