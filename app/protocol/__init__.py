"""MCP protocol dispatch for both generations. Never imports Flask."""
