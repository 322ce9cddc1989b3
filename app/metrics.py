"""Prometheus metrics of this process: a leaf module any layer may import (like settings).

Under gunicorn, gunicorn.conf.py exports PROMETHEUS_MULTIPROC_DIR before workers fork, so
prometheus_client keeps every value in per-process files there and `render()` adds all
workers up (MultiProcessCollector). Without it (tests, stdio) the default registry is used.

Label values are always bounded: route rules (never raw paths), registered tool names,
error class names, fixed outcome words.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

HTTP_REQUESTS = Counter(
    "mcp_http_requests_total", "HTTP requests answered, by route, method and status.",
    ["endpoint", "method", "status"],
)
TOOL_CALLS = Counter(
    "mcp_tool_calls_total", "tools/call requests by tool and outcome (ok, error, insufficient_scope, unknown_tool).",
    ["tool", "outcome"],
)
TOOL_CALL_SECONDS = Histogram(
    "mcp_tool_call_seconds", "Duration of tools/call, by tool.", ["tool"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
AUTH_FAILURES = Counter("mcp_auth_failures_total", "Requests refused by token verification, by reason.", ["reason"])
RATE_LIMITED = Counter(
    "mcp_rate_limited_total", "Requests answered 429, by limit (auth_failures, tool_calls, registrations).",
    ["limit"],
)
CLIENT_REGISTRATIONS = Counter(
    "mcp_client_registrations_total",
    "Requests to the registration proxy, by backend and outcome (registered, or the error code answered).",
    ["backend", "outcome"],
)
KUBE_CALL_SECONDS = Histogram(
    "kube_api_call_seconds", "Duration of Kubernetes API calls (retries included), by kind (read or write).",
    ["kind"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
KUBE_ERRORS = Counter(
    "kube_api_errors_total", "Kubernetes API calls that failed, by error class (NotFound, Forbidden, ...).", ["error"]
)
TOKEN_EXCHANGES = Counter(
    "kube_token_exchanges_total",
    "KUBE_AUTH=exchange: exchanged tokens by outcome (cached, exchanged, refused by the IdP, failed).",
    ["outcome"])
JWKS_FETCHES = Counter("oidc_jwks_fetches_total", "JWKS fetches from the identity provider, by outcome.", ["outcome"])


def render() -> bytes:
    """The exposition text: every worker's values when multiprocess mode is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
