"""Per-caller authorization: which tools a token's scopes unlock.

Tool classes follow the annotations: read-only tools need the read scope, destructive tools the
admin scope, every other mutating tool the write scope. Scopes are hierarchical (admin ⊇ write ⊇
read), so an admin token sees everything. With no per-class scopes configured, every
authenticated caller sees every tool (OIDC_SCOPE alone decides).
"""

from __future__ import annotations

from app.identity import Principal
from app.settings import Settings
from app.tools.spec import ToolSpec

_READ, _WRITE, _ADMIN = 0, 1, 2


def _rank(spec: ToolSpec) -> int:
    if spec.hints.read_only:
        return _READ
    return _ADMIN if spec.hints.destructive else _WRITE


class ToolPolicy:
    """Decides per caller; built once per worker from settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._by_rank = [settings.scope_read, settings.scope_write, settings.scope_admin]

    @property
    def per_caller(self) -> bool:
        """Whether answers depend on the caller's token (then list results are cacheScope private)."""
        return self.settings.auth_enabled

    def allows(self, spec: ToolSpec, principal: Principal) -> bool:
        if not self.settings.scoped_tools:
            return True
        needed = _rank(spec)
        return any(scope in principal.scopes for scope in self._by_rank[needed:])

    def scopes_needed(self, spec: ToolSpec) -> list[str]:
        """Every scope a token needs to call `spec` (for the 403 step-up challenge)."""
        extra = [self._by_rank[_rank(spec)]] if self.settings.scoped_tools else []
        return list(dict.fromkeys([*self.settings.oidc_scopes, *(s for s in extra if s)]))
