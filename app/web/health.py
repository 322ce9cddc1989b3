"""Liveness and readiness, both without authentication."""

from __future__ import annotations

from flask import Blueprint, Response

from app.kube import KubeError
from app.settings import SERVICE_NAME
from app.web.replies import json_response
from app.web.state import app_state

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers. Depends on nothing else on purpose."""
    return json_response({"status": "healthy", "service": SERVICE_NAME})


@bp.get("/ready")
def ready() -> Response:
    """Readiness: can this worker do useful work right now?"""
    contexts = app_state().kube
    try:
        # The default context: a worker that cannot reach it cannot serve calls that name none.
        version = contexts.access(contexts.default.name).probe()
        check = {"ok": True, "detail": f"API server {version}"}
    except KubeError as exc:
        check = {"ok": False, "detail": str(exc)}
    ok = check["ok"]
    body = {"status": "ready" if ok else "not_ready", "service": SERVICE_NAME, "checks": {"kubernetes": check}}
    return json_response(body, 200 if ok else 503)
