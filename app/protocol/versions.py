"""Which protocol revisions this server speaks, and how the handshake era negotiates."""

from __future__ import annotations

from mcp_types.version import LATEST_HANDSHAKE_VERSION, MODERN_PROTOCOL_VERSIONS

# Streamable HTTP exists from 2025-03-26 on; 2024-11-05 clients used HTTP+SSE.
HANDSHAKE_VERSIONS: tuple[str, ...] = ("2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS: tuple[str, ...] = tuple(MODERN_PROTOCOL_VERSIONS)
ALL_SERVED_VERSIONS: tuple[str, ...] = (*HANDSHAKE_VERSIONS, *MODERN_VERSIONS)

# Streamable HTTP spec: a request without MCP-Protocol-Version is assumed to be 2025-03-26.
DEFAULT_HEADERLESS_VERSION = "2025-03-26"


def negotiate_handshake(requested: object) -> str:
    """`initialize`: echo a version we serve, else offer the newest handshake version."""
    if isinstance(requested, str) and requested in HANDSHAKE_VERSIONS:
        return requested
    return LATEST_HANDSHAKE_VERSION
