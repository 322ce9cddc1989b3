"""Pinned peer servers measured beside ours: containers/kubernetes-mcp-server (Go) and the official
MCP Python SDK's MCPServer. cache.py fetches them, servers.py runs them, scenarios.py measures them."""
