"""GET /metrics: Prometheus text format, for the client networks in METRICS_ALLOW_FROM only.

The address checked is `request.remote_addr`, which is the real client only when
TRUSTED_PROXY_HOPS matches the proxies in front (behind a local proxy without it,
every client looks like loopback).
"""

from __future__ import annotations

import ipaddress

from flask import Blueprint, Response, request

from app import metrics
from app.web.replies import json_response
from app.web.state import app_state

bp = Blueprint("metrics", __name__)


def client_allowed(address: str | None, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False  # e.g. a unix-socket peer has no address: refuse rather than guess
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(network) for network in networks)


@bp.get("/metrics")
def scrape() -> Response:
    settings = app_state().settings
    if not settings.metrics_enabled:
        return json_response({"error": "not_found", "error_description": "Metrics are disabled (METRICS_ENABLED)"},
                             404)
    if not client_allowed(request.remote_addr, settings.metrics_allow_from):
        return json_response({"error": "forbidden",
                              "error_description": "This address may not read metrics (see METRICS_ALLOW_FROM)"}, 403)
    response = Response(metrics.render(), status=200, content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
