"""Who is calling: produced by authentication, consumed by dispatch and tools.

A leaf module so that auth and tools can share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    """A verified caller. Never holds the bearer token itself."""

    subject: str
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Selected claims (e.g. for impersonation mapping); never the raw token."""


ANONYMOUS = Principal(subject="anonymous")
