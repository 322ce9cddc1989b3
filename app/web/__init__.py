"""HTTP transport: the only package that knows Flask."""
