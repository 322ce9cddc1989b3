"""Who is calling: produced by authentication, consumed by dispatch and tools.

A leaf module so that auth and tools can share it without importing each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


class SubjectToken:
    """A caller's bearer token, kept only where KUBE_AUTH=exchange needs it. `repr()` and `str()`
    never show it, so a log line or traceback that prints a Principal cannot leak it."""

    __slots__ = ("value", "_digest")

    def __init__(self, value: str) -> None:
        self.value = value
        self._digest = hashlib.sha256(value.encode()).hexdigest()

    def digest(self) -> str:
        """SHA-256 of the token (hex): a cache key that is not the token."""
        return self._digest

    def __repr__(self) -> str:
        return "SubjectToken(<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True)
class Principal:
    """A verified caller. Holds the bearer token only when KUBE_AUTH=exchange must exchange it."""

    subject: str
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Selected claims (e.g. for impersonation mapping); never the raw token."""
    credential: SubjectToken | None = field(default=None, compare=False, repr=False)
    """The bearer token itself, only with KUBE_AUTH=exchange (to exchange it); otherwise None."""


ANONYMOUS = Principal(subject="anonymous")
