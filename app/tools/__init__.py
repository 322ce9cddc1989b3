"""Tools: declarations, the registry, and (per domain) handlers. Never imports Flask."""
